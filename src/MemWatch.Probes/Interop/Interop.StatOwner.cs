using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
        private static unsafe partial int FStatOwnerRaw(SafeFileHandle fd, byte* buffer);

        /// <summary>Owner uid and whether an open file is a regular file (x86_64 struct stat: st_mode at 24, st_uid at 28).</summary>
        internal static unsafe bool TryFStatOwner(SafeFileHandle handle, out uint uid, out bool regular)
        {
            byte* b = stackalloc byte[144];
            if (FStatOwnerRaw(handle, b) != 0)
            {
                uid = 0;
                regular = false;
                return false;
            }

            var s = new ReadOnlySpan<byte>(b, 144);
            uint mode = BinaryPrimitives.ReadUInt32LittleEndian(s[24..]);
            uid = BinaryPrimitives.ReadUInt32LittleEndian(s[28..]);
            regular = (mode & 0xf000) == 0x8000;
            return true;
        }
    }
}
