using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        [StructLayout(LayoutKind.Sequential)]
        internal struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        internal const short POLLIN = 1;

        [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
        private static unsafe partial int PollRaw(PollFd* fds, nuint count, int timeoutMs);

        /// <summary>poll(2): waits until one of <paramref name="fds"/> is ready or the timeout (0: none) passes.</summary>
        internal static unsafe int Poll(Span<PollFd> fds, int timeoutMs)
        {
            fixed (PollFd* p = fds)
            {
                return PollRaw(p, (nuint)fds.Length, timeoutMs);
            }
        }
    }
}
