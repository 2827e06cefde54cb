using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // asm/signal.h (x86_64 and asm-generic agree on these)
        internal const int SIGILL = 4;
        internal const int SIGTRAP = 5;
        internal const int SIGABRT = 6;
        internal const int SIGBUS = 7;
        internal const int SIGFPE = 8;
        internal const int SIGKILL = 9;
        internal const int SIGUSR1 = 10;
        internal const int SIGSEGV = 11;
        internal const int SIGSTOP = 19;

        [LibraryImport("libc", EntryPoint = "tgkill", SetLastError = true)]
        internal static partial int TgKill(int tgid, int tid, int signal);

        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);
    }
}
