namespace MemWatch.Probes.Regions;

/// <summary>Stable lower-case kebab names of <see cref="RegionKind"/> values, for JSON and metric labels.</summary>
public static class RegionKindNames
{
    /// <summary>Number of region kinds.</summary>
    public const int Count = (int)RegionKind.Kernel + 1;

    public static string ToName(this RegionKind kind) => kind switch
    {
        RegionKind.Heap => "heap",
        RegionKind.Arena => "arena",
        RegionKind.MmapChunk => "mmap-chunk",
        RegionKind.AllocatorExtent => "allocator-extent",
        RegionKind.Stack => "stack",
        RegionKind.GcHeap => "gc-heap",
        RegionKind.FileCode => "file-code",
        RegionKind.FileData => "file-data",
        RegionKind.Shmem => "shmem",
        RegionKind.Anon => "anon",
        RegionKind.Kernel => "kernel",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string name, out RegionKind kind)
    {
        for (int i = 0; i < Count; i++)
        {
            if (string.Equals(((RegionKind)i).ToName(), name, StringComparison.Ordinal))
            {
                kind = (RegionKind)i;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
