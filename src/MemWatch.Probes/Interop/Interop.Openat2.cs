using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int O_PATH = 0x200000;
        internal const int O_DIRECTORY = 0x10000;
        internal const int O_NOFOLLOW = 0x20000;
        internal const int O_NONBLOCK = 0x800;

        internal const ulong RESOLVE_NO_MAGICLINKS = 0x02;
        internal const ulong RESOLVE_NO_SYMLINKS = 0x04;
        internal const ulong RESOLVE_BENEATH = 0x08;

        private const long SYS_openat2 = 437;
        private const long SYS_fstat = 5;

        /// <summary>struct open_how of openat2(2).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct OpenHow
        {
            public ulong Flags;
            public ulong Mode;
            public ulong Resolve;
        }

        [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
        private static unsafe partial long Syscall(long number, long dirfd, byte* path, OpenHow* how, nuint size);

        [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
        private static unsafe partial long Syscall(long number, long fd, byte* stat);

        /// <summary>openat2(2): <paramref name="path"/> relative to <paramref name="dirfd"/> under <paramref name="resolve"/>'s rules.</summary>
        internal static unsafe int OpenAt2(int dirfd, string path, int flags, ulong resolve)
        {
            byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
            System.Text.Encoding.UTF8.GetBytes(path, bytes);
            var how = new OpenHow { Flags = (ulong)flags, Mode = 0, Resolve = resolve };
            fixed (byte* p = bytes)
            {
                return (int)Syscall(SYS_openat2, dirfd, p, &how, (nuint)sizeof(OpenHow));
            }
        }

        /// <summary>fstat(2) on x86-64: the file's st_mode and st_size, or false.</summary>
        internal static bool FStat(int fd, out uint mode, out long size) => FStat(fd, out mode, out size, out _);

        /// <summary>fstat(2) on x86-64: st_mode, st_size and st_mtim in nanoseconds, or false.</summary>
        internal static unsafe bool FStat(int fd, out uint mode, out long size, out long mtimeNanoseconds)
        {
            // struct stat on x86-64 is 144 bytes: st_mode at 24, st_size at 48, st_mtim at 88.
            byte* stat = stackalloc byte[144];
            if (Syscall(SYS_fstat, fd, stat) != 0)
            {
                mode = 0;
                size = 0;
                mtimeNanoseconds = 0;
                return false;
            }

            mode = *(uint*)(stat + 24);
            size = *(long*)(stat + 48);
            mtimeNanoseconds = (*(long*)(stat + 88) * 1_000_000_000) + *(long*)(stat + 96);
            return true;
        }
    }
}
