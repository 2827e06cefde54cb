namespace MemWatch.Probes.Verdicts;

/// <summary>What a process's memory is doing. <see cref="VerdictKindNames.ToName"/> gives the report names.</summary>
public enum VerdictKind
{
    /// <summary><c>stable</c>: no significant growth, and no large amount of free memory held by the allocator.</summary>
    Stable,

    /// <summary><c>leak</c>: the application keeps more and more memory live.</summary>
    Leak,

    /// <summary><c>allocator-retention</c>: the application freed the memory; the allocator keeps it resident.</summary>
    AllocatorRetention,

    /// <summary><c>file-backed-growth</c>: resident pages of mapped files grow (the kernel can reclaim clean ones).</summary>
    FileBackedGrowth,

    /// <summary><c>managed-heap-growth</c>: a .NET GC heap grows.</summary>
    ManagedHeapGrowth,

    /// <summary><c>unexplained-growth</c>: RSS grows but neither anonymous, file, managed nor allocator figures account for it.</summary>
    UnexplainedGrowth,

    /// <summary><c>shared-memory-growth</c>: RssShmem grows (shared buffers, /dev/shm, memfd): pages shared with others and charged once, never a leak of this process.</summary>
    SharedMemoryGrowth,

    /// <summary><c>bounded-cache-growth</c>: a cache fills toward a limit the process declares (memcached -m, Redis maxmemory).</summary>
    BoundedCacheGrowth,
}
