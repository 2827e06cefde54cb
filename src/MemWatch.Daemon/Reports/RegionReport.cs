namespace MemWatch.Daemon.Reports;

/// <summary>Totals of one region kind (heap, arena, mmap-chunk, stack, file-code, ...).</summary>
internal sealed record RegionReport
{
    public required string Kind { get; init; }

    public required int Count { get; init; }

    public required ulong SizeBytes { get; init; }

    public required ulong RssBytes { get; init; }

    public required ulong PssBytes { get; init; }

    public required ulong PrivateDirtyBytes { get; init; }

    public required ulong SwapBytes { get; init; }

    /// <summary>Resident in transparent huge pages (smaps AnonHugePages).</summary>
    public ulong AnonHugePagesBytes { get; init; }

    /// <summary>Freed with MADV_FREE and still resident until the kernel needs it (smaps LazyFree).</summary>
    public ulong LazyFreeBytes { get; init; }
}
