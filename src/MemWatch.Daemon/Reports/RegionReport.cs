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
}
