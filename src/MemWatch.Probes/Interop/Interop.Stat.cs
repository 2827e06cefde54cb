using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // struct stat of x86_64 (asm/stat.h): 144 bytes; st_dev at 0, st_ino at 8, st_size at 48, st_mtim at 88.
        private const int StatSize = 144;

        [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
        private static unsafe partial int FStatRaw(SafeFileHandle fd, byte* buffer);

        /// <summary>Device, inode, size and mtime (ns) of an open file; false when fstat fails.</summary>
        internal static unsafe bool TryFStat(SafeFileHandle handle, out ulong device, out ulong inode, out long size, out long mtimeNs)
        {
            byte* b = stackalloc byte[StatSize];
            if (FStatRaw(handle, b) != 0)
            {
                device = inode = 0;
                size = mtimeNs = 0;
                return false;
            }

            var s = new ReadOnlySpan<byte>(b, StatSize);
            device = BinaryPrimitives.ReadUInt64LittleEndian(s);
            inode = BinaryPrimitives.ReadUInt64LittleEndian(s[8..]);
            size = BinaryPrimitives.ReadInt64LittleEndian(s[48..]);
            mtimeNs = (BinaryPrimitives.ReadInt64LittleEndian(s[88..]) * 1_000_000_000) + BinaryPrimitives.ReadInt64LittleEndian(s[96..]);
            return true;
        }
    }
}
