using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // linux/magic.h
        internal const long PROC_SUPER_MAGIC = 0x9fa0;

        [LibraryImport("libc", EntryPoint = "statfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static unsafe partial int StatFsCall(string path, byte* buffer);

        [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static unsafe partial int StatxPathCall(int dirfd, string path, int flags, uint mask, Statx* buffer);

        private const int AT_FDCWD = -100;

        /// <summary>f_type of the filesystem holding <paramref name="path"/> (struct statfs starts with it on every Linux ABI), or null.</summary>
        internal static unsafe long? FileSystemType(string path)
        {
            byte* buffer = stackalloc byte[256]; // struct statfs is 120 bytes on x86-64 and arm64
            return StatFsCall(path, buffer) == 0 ? *(long*)buffer : null;
        }

        /// <summary>statx(2) of a path, following no final symlink rule beyond the kernel's default; 0 or -1 with errno set.</summary>
        internal static unsafe int StatxPath(string path, uint mask, out Statx buffer)
        {
            Statx result;
            int rc = StatxPathCall(AT_FDCWD, path, 0, mask, &result);
            buffer = result;
            return rc;
        }
    }
}
