namespace MemWatch.Probes.Allocators;

/// <summary>
/// MemWatch's own C heap, when the runtime runs on glibc: what MemWatch advises for its targets, applied to itself.
/// The runtime's native side (JIT, type loader, SQLite) frees most of what it allocates at start-up, and ptmalloc
/// keeps it; every thread that mallocs under contention may add a 64 MiB arena.
/// </summary>
/// <remarks>On another C library (musl) the calls do not exist and both methods return false.</remarks>
public static class OwnGlibcHeap
{
    /// <summary>mallopt(M_ARENA_MAX): threads that start later share at most <paramref name="arenas"/> arenas.</summary>
    public static bool TryLimitArenas(int arenas)
    {
        try
        {
            return Interop.Libc.Mallopt(Interop.Libc.M_ARENA_MAX, arenas) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>malloc_trim(0) in this process: returns free memory at the top of the heap and free pages inside
    /// every arena to the kernel. True when glibc released something.</summary>
    public static bool TryTrim()
    {
        try
        {
            return Interop.Libc.MallocTrim(0) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }
}
