namespace MemWatch.Probes.Allocators.Models;

/// <summary>Ways an allocator keeps memory the application has freed. <see cref="RetentionMechanism.NameOf"/> gives the report names.</summary>
public enum RetentionMechanismKind
{
    /// <summary><c>fastbin-tcache-hoard</c>: small freed chunks parked in fastbins and per-thread caches, never coalesced.</summary>
    FastbinTcacheHoard,

    /// <summary><c>top-chunk-pinned</c>: a live chunk near the end of a heap keeps the free space below it from being trimmed.</summary>
    TopChunkPinned,

    /// <summary><c>arena-proliferation</c>: many arenas, each keeping its own free memory.</summary>
    ArenaProliferation,

    /// <summary><c>mmap-threshold-raised</c>: glibc's dynamic threshold moved large blocks from mmap into the heap.</summary>
    MmapThresholdRaised,

    /// <summary><c>thread-cache</c>: per-thread caches (tcmalloc, jemalloc tcache).</summary>
    ThreadCache,

    /// <summary><c>dirty-pages</c>: freed pages kept resident until a decay or release runs.</summary>
    DirtyPages,

    /// <summary><c>fragmentation</c>: free space split into pieces later requests cannot use.</summary>
    Fragmentation,

    /// <summary><c>pymalloc-arena-pinned</c>: CPython's 1 MiB arenas are returned only when every pool in them is empty; a few survivors per arena keep them all.</summary>
    PymallocArenaPinned,

    /// <summary><c>go-heap-idle</c>: Go keeps idle spans until its background scavenger returns them (or GOMEMLIMIT presses).</summary>
    GoHeapIdle,

    /// <summary><c>transparent-huge-pages</c>: a 2 MiB huge page stays resident while any 4 KiB of it is in use.</summary>
    TransparentHugePages,

    /// <summary><c>thread-leak</c> (a leak's mechanism): threads created and never joined, each with its stack and, under glibc, a share of an arena.</summary>
    ThreadLeak,
}
