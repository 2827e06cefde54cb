using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int EFAULT = 14;

        /// <summary>IOV_MAX: the most ranges one process_vm_readv takes.</summary>
        internal const int MaxIoVecs = 1024;

        [LibraryImport("libc", EntryPoint = "process_vm_readv", SetLastError = true)]
        private static unsafe partial nint ProcessVmReadv(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

        [LibraryImport("libc", EntryPoint = "process_vm_writev", SetLastError = true)]
        private static unsafe partial nint ProcessVmWritev(int pid, IoVec* local, nuint localCount, IoVec* remote, nuint remoteCount, nuint flags);

        /// <summary>
        /// Reads remote memory into <paramref name="destination"/>, split at page boundaries so that an unmapped
        /// page ends the transfer there (the kernel never splits one iovec element). Returns bytes read or -1.
        /// </summary>
        internal static unsafe long ReadProcessMemory(int pid, ulong address, Span<byte> destination)
        {
            const int MaxVecs = 64;
            if (destination.IsEmpty)
            {
                return 0;
            }

            IoVec* local = stackalloc IoVec[MaxVecs];
            IoVec* remote = stackalloc IoVec[MaxVecs];
            long total = 0;
            fixed (byte* d = destination)
            {
                while (total < destination.Length)
                {
                    int n = 0;
                    long offset = total;
                    while (n < MaxVecs && offset < destination.Length)
                    {
                        ulong a = address + (ulong)offset;
                        long chunk = Math.Min(4096 - (long)(a & 4095), destination.Length - offset);
                        local[n] = new IoVec { Base = d + offset, Length = (nuint)chunk };
                        remote[n] = new IoVec { Base = (void*)a, Length = (nuint)chunk };
                        offset += chunk;
                        n++;
                    }

                    long want = offset - total;
                    nint got = ProcessVmReadv(pid, local, (nuint)n, remote, (nuint)n, 0);
                    if (got < 0)
                    {
                        return total > 0 ? total : -1;
                    }

                    total += got;
                    if (got < want)
                    {
                        break;
                    }
                }
            }

            return total;
        }

        /// <summary>
        /// Reads <paramref name="size"/> bytes at each of the first <see cref="MaxIoVecs"/> of <paramref name="addresses"/>
        /// into consecutive slots of <paramref name="destination"/> in one process_vm_readv. No range may cross a page
        /// boundary: such a range is read whole or not at all, and the kernel stops at the first it cannot read, so the
        /// count of whole ranges read tells which one failed. Returns how many leading ranges were read, or −errno when
        /// none was (EFAULT: the first range is not mapped; EPERM, ESRCH, ENOSYS: nothing can be read this way).
        /// </summary>
        internal static unsafe int ReadProcessMemoryRanges(int pid, ReadOnlySpan<ulong> addresses, int size, Span<byte> destination)
        {
            int count = Math.Min(addresses.Length, MaxIoVecs);
            if (count == 0)
            {
                return 0;
            }

            ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, count * size);

            IoVec* local = stackalloc IoVec[count];
            IoVec* remote = stackalloc IoVec[count];
            fixed (byte* d = destination)
            {
                for (int i = 0; i < count; i++)
                {
                    local[i] = new IoVec { Base = d + (long)i * size, Length = (nuint)size };
                    remote[i] = new IoVec { Base = (void*)addresses[i], Length = (nuint)size };
                }

                nint got = ProcessVmReadv(pid, local, (nuint)count, remote, (nuint)count, 0);
                return got < 0 ? -Marshal.GetLastPInvokeError() : (int)(got / size);
            }
        }

        /// <summary>Writes <paramref name="source"/> to remote memory in one process_vm_writev. Returns bytes written or -1.</summary>
        internal static unsafe long WriteProcessMemory(int pid, ulong address, ReadOnlySpan<byte> source)
        {
            fixed (byte* s = source)
            {
                var local = new IoVec { Base = s, Length = (nuint)source.Length };
                var remote = new IoVec { Base = (void*)address, Length = (nuint)source.Length };
                return ProcessVmWritev(pid, &local, 1, &remote, 1, 0);
            }
        }
    }
}
