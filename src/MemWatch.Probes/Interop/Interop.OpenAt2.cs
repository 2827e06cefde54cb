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
        internal const int O_NOCTTY = 0x100;
        internal const int AT_EMPTY_PATH = 0x1000;
        internal const int ENOENT = 2;
        internal const int ESRCH = 3;
        internal const int EACCES = 13;
        internal const int EPERM = 1;
        internal const int ELOOP = 40;
        internal const int EXDEV = 18;
        internal const int ENOSYS = 38;
        internal const int ENOTDIR = 20;

        // linux/openat2.h
        internal const ulong RESOLVE_NO_XDEV = 0x01;
        internal const ulong RESOLVE_NO_MAGICLINKS = 0x02;
        internal const ulong RESOLVE_NO_SYMLINKS = 0x04;
        internal const ulong RESOLVE_BENEATH = 0x08;
        internal const ulong RESOLVE_IN_ROOT = 0x10;

        // The generic syscall table number, the same on x86-64 and arm64 (Linux >= 5.6); glibc has no wrapper.
        internal const long SYS_openat2 = 437;

        // statx mask bits and file types (linux/stat.h).
        internal const uint STATX_TYPE = 0x1;
        internal const uint STATX_MODE = 0x2;
        internal const uint STATX_UID = 0x8;
        internal const uint STATX_GID = 0x10;
        internal const uint STATX_SIZE = 0x200;
        internal const uint STATX_BASIC_STATS = 0x7ff;
        internal const ushort S_IFMT = 0xF000;
        internal const ushort S_IFREG = 0x8000;
        internal const ushort S_IFDIR = 0x4000;
        internal const ushort S_IFSOCK = 0xC000;
        internal const ushort S_IFIFO = 0x1000;
        internal const ushort S_IFCHR = 0x2000;
        internal const ushort S_IFBLK = 0x6000;
        internal const ushort S_IFLNK = 0xA000;

        [StructLayout(LayoutKind.Sequential)]
        internal struct OpenHow
        {
            public ulong flags;
            public ulong mode;
            public ulong resolve;
        }

        /// <summary>struct statx (linux/stat.h): the same layout on every architecture, unlike struct stat.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        internal struct Statx
        {
            [FieldOffset(0)] public uint stx_mask;
            [FieldOffset(20)] public uint stx_uid;
            [FieldOffset(24)] public uint stx_gid;
            [FieldOffset(28)] public ushort stx_mode;
            [FieldOffset(32)] public ulong stx_ino;
            [FieldOffset(40)] public ulong stx_size;
            [FieldOffset(48)] public ulong stx_blocks;
            [FieldOffset(136)] public uint stx_dev_major;
            [FieldOffset(140)] public uint stx_dev_minor;
        }

        // syscall(2) is variadic; on x86-64 and arm64 Linux integer arguments pass in the same registers either way.
        [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
        internal static unsafe partial long SyscallOpenAt2(long number, int dirfd, byte* path, OpenHow* how, nuint size);

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
        internal static unsafe partial int StatxCall(int dirfd, byte* path, int flags, uint mask, Statx* buffer);

        /// <summary>openat2(2) with a UTF-8 path; returns the fd or -1 with errno set.</summary>
        internal static unsafe int OpenAt2(int dirfd, string path, ulong flags, ulong resolve)
        {
            int max = System.Text.Encoding.UTF8.GetMaxByteCount(path.Length) + 1;
            Span<byte> utf8 = max <= 1024 ? stackalloc byte[max] : new byte[max];
            int n = System.Text.Encoding.UTF8.GetBytes(path, utf8);
            utf8[n] = 0;
            var how = new OpenHow { flags = flags, mode = 0, resolve = resolve };
            fixed (byte* p = utf8)
            {
                return (int)SyscallOpenAt2(SYS_openat2, dirfd, p, &how, (nuint)sizeof(OpenHow));
            }
        }

        /// <summary>statx of an open descriptor (AT_EMPTY_PATH); 0 or -1 with errno set.</summary>
        internal static unsafe int FStatx(int fd, out Statx buffer)
        {
            byte empty = 0;
            Statx result;
            int rc = StatxCall(fd, &empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &result);
            buffer = result;
            return rc;
        }
    }
}
