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
}
