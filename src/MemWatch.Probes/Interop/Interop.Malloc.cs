using System.Runtime.InteropServices;

namespace MemWatch.Probes;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // malloc.h
        internal const int M_ARENA_MAX = -8;

        [LibraryImport("libc", EntryPoint = "mallopt")]
        internal static partial int Mallopt(int param, int value);

        [LibraryImport("libc", EntryPoint = "malloc_trim")]
        internal static partial int MallocTrim(nuint pad);
    }
}
