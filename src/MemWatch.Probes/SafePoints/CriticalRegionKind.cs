namespace MemWatch.Probes.SafePoints;

/// <summary>Why code is a critical region: the lock a thread running it may hold, or the state it may be halfway through.</summary>
public enum CriticalRegionKind
{
    /// <summary>glibc malloc.c: an arena lock, or (single-threaded, no locks taken) an arena or tcache halfway updated.</summary>
    GlibcMalloc,

    /// <summary>malloc_stats / malloc_info: an arena lock held while writing to a FILE (which may block on a full pipe).</summary>
    MallocStatistics,

    /// <summary>fork and its handlers: every arena lock and <c>list_all_lock</c> held across the clone.</summary>
    Fork,

    /// <summary>stdio code that holds <c>list_all_lock</c> (the injected <c>open_memstream</c>/<c>fclose</c> need it).</summary>
    StdioListLock,

    /// <summary>The dynamic loader (ld.so) and libc's dl* entry points: <c>dl_load_lock</c> / <c>dl_load_write_lock</c>.</summary>
    DynamicLoader,

    /// <summary>jemalloc's code: its arena, tcache and prefork mutexes.</summary>
    Jemalloc,

    /// <summary>gperftools tcmalloc's code: its page-heap and central free-list spinlocks and prefork handlers.</summary>
    Tcmalloc,

    /// <summary>A range the caller named (e.g. an introspector's own unsafe code).</summary>
    Other,
}
