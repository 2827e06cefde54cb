using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // bits/waitflags.h
        internal const int WNOHANG = 1;
        internal const int __WALL = 0x40000000;

        [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
        internal static partial int WaitPid(int pid, out int status, int options);

        internal static bool WIfExited(int status) => (status & 0x7f) == 0;

        internal static bool WIfSignaled(int status) => ((status & 0x7f) + 1) >> 1 > 0 && (status & 0x7f) != 0x7f;

        internal static bool WIfStopped(int status) => (status & 0xff) == 0x7f;

        internal static int WStopSig(int status) => (status >> 8) & 0xff;

        /// <summary>The PTRACE_EVENT_* in bits 16..23 of a ptrace stop status.</summary>
        internal static int WPtraceEvent(int status) => (status >> 16) & 0xff;
    }
}
