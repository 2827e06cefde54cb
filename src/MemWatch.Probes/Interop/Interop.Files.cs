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

        [LibraryImport("libc", EntryPoint = "close")]
        internal static partial int Close(int fd);
    }
}
