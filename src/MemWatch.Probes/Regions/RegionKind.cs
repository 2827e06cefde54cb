namespace MemWatch.Probes.Regions;

/// <summary>
/// What a mapping of <c>/proc/PID/smaps</c> means to someone chasing memory. Stable kebab-case names for JSON and
/// metrics come from <see cref="RegionKindNames.ToName"/>; the numeric values are not stable across versions.
/// </summary>
public enum RegionKind
{
    /// <summary><c>heap</c>: the main brk heap, <c>[heap]</c> (glibc's main arena; gperftools tcmalloc also grows it with sbrk).</summary>
    Heap,

    /// <summary><c>arena</c>: a glibc non-main arena heap: a 64 MiB-aligned anonymous reservation, rw part plus <c>---p</c> remainder.</summary>
    Arena,

    /// <summary><c>mmap-chunk</c>: a large glibc chunk served by its own mmap (a chunk header with IS_MMAPPED at the mapping start).</summary>
    MmapChunk,

    /// <summary><c>allocator-extent</c>: anonymous memory of jemalloc or tcmalloc where recognizable.</summary>
    AllocatorExtent,

    /// <summary><c>stack</c>: the main <c>[stack]</c>, thread stacks and their guard pages.</summary>
    Stack,

    /// <summary><c>gc-heap</c>: the .NET GC's regions reservation where recognizable.</summary>
    GcHeap,

    /// <summary><c>file-code</c>: file-backed executable mappings.</summary>
    FileCode,

    /// <summary><c>file-data</c>: other file-backed mappings.</summary>
    FileData,

    /// <summary><c>shmem</c>: /dev/shm, SYSV segments, memfd, shared anonymous memory.</summary>
    Shmem,

    /// <summary><c>anon</c>: other anonymous memory.</summary>
    Anon,

    /// <summary><c>kernel</c>: <c>[vdso]</c>, <c>[vvar]</c>, <c>[vsyscall]</c> and other kernel-provided pseudo-mappings.</summary>
    Kernel,
}
