using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int O_RDONLY = 0;
        internal const int O_CLOEXEC = 0x80000;
        internal const int EINTR = 4;

        // FileStream and File.OpenHandle add an fstat and a flock to every open, and a SafeFileHandle: for the sampler,
        // which opens two /proc files per process per tick, plain open/read/close is half the system calls.
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        internal static unsafe partial nint Read(int fd, byte* buffer, nint count);

        // A held /proc file read again from offset 0 makes the kernel generate it afresh: one call per reading where
        // open/read/close is three, and no path walk (ProcFile).
        [LibraryImport("libc", EntryPoint = "pread64", SetLastError = true)]
        internal static unsafe partial nint PRead(int fd, byte* buffer, nint count, long offset);

        [LibraryImport("libc", EntryPoint = "close")]
        internal static partial int Close(int fd);

        internal const int RLIMIT_NOFILE = 7;

        [StructLayout(LayoutKind.Sequential)]
        internal struct RLimit
        {
            public ulong Current;
            public ulong Maximum;
        }

        [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
        internal static partial int GetRLimit(int resource, out RLimit limit);

        [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
        internal static partial int SetRLimit(int resource, in RLimit limit);
    }
}
