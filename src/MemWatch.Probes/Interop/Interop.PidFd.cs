using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // The generic syscall table number, the same on x86-64 and arm64 (Linux >= 5.3); glibc < 2.36 has no wrapper.
        internal const long SYS_pidfd_open = 434;

        [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
        private static partial long SyscallPidFdOpen(long number, int pid, uint flags);

        /// <summary>pidfd_open(2): a descriptor for process <paramref name="pid"/>, or -1 with errno set.</summary>
        internal static int PidFdOpen(int pid) => (int)SyscallPidFdOpen(SYS_pidfd_open, pid, 0);
    }
}
