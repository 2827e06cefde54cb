using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    /// <summary>
    /// A perf ring buffer mapped from an event fd: one metadata page (struct perf_event_mmap_page) and a data area of
    /// 2^n pages. The kernel writes records at data_head; the reader publishes data_tail when it has consumed them.
    /// </summary>
    internal sealed unsafe class PerfMmapRegion : IDisposable
    {
        private const int DataHeadOffset = 1024;
        private const int DataTailOffset = 1032;

        private nint _address;
        private readonly nuint _length;
        private readonly int _pageSize;

        private PerfMmapRegion(nint address, nuint length, int pageSize, int dataSize)
        {
            _address = address;
            _length = length;
            _pageSize = pageSize;
            DataSize = dataSize;
        }

        /// <summary>Bytes of the data area (a power of two).</summary>
        public int DataSize { get; }

        /// <summary>Maps 1 + <paramref name="dataPages"/> pages of <paramref name="fd"/>; null with errno set on failure.</summary>
        public static PerfMmapRegion? TryMap(int fd, int dataPages, out int errno)
        {
            int page = Environment.SystemPageSize;
            nuint length = (nuint)((1 + dataPages) * page);
            nint address = PerfEvent.Mmap(0, length, PerfEvent.PROT_READ | PerfEvent.PROT_WRITE, PerfEvent.MAP_SHARED, fd, 0);
            if (address == -1)
            {
                errno = Marshal.GetLastPInvokeError();
                return null;
            }

            errno = 0;
            return new PerfMmapRegion(address, length, page, dataPages * page);
        }

        /// <summary>data_head, read with acquire semantics so the records before it are visible.</summary>
        public ulong ReadHead() => Volatile.Read(ref *(ulong*)(_address + DataHeadOffset));

        /// <summary>data_tail, written with release semantics after the records are consumed.</summary>
        public void WriteTail(ulong tail) => Volatile.Write(ref *(ulong*)(_address + DataTailOffset), tail);

        public ulong ReadTail() => Volatile.Read(ref *(ulong*)(_address + DataTailOffset));

        /// <summary>Copies <paramref name="destination"/>.Length bytes from ring position <paramref name="position"/>, wrapping around.</summary>
        public void Copy(ulong position, Span<byte> destination)
        {
            byte* data = (byte*)(_address + _pageSize);
            int offset = (int)(position & (ulong)(DataSize - 1));
            int first = Math.Min(destination.Length, DataSize - offset);
            new ReadOnlySpan<byte>(data + offset, first).CopyTo(destination);
            if (first < destination.Length)
            {
                new ReadOnlySpan<byte>(data, destination.Length - first).CopyTo(destination[first..]);
            }
        }

        public void Dispose()
        {
            if (_address != 0)
            {
                PerfEvent.Munmap(_address, _length);
                _address = 0;
            }
        }
    }
}
