namespace MemWatch.Probes.Attribution;

/// <summary>
/// What one attribution capture found. <see cref="HasGrowth"/> is false ("no growth to attribute") unless at least
/// <see cref="AttributionOptions.MinGrowthBytes"/> of sampled faults were still resident at the end and anonymous
/// RSS grew by at least as much; then <see cref="NoGrowthReason"/> says which test failed, with the figures.
/// </summary>
public sealed record AttributionResult
{
    public required int Pid { get; init; }

    public required double Seconds { get; init; }

    /// <summary>Samples decoded from the target (faults and the brk/mmap/munmap/mremap/madvise calls).</summary>
    public required long Events { get; init; }

    /// <summary>Resident bytes faulted in during the capture and not given back by its end, over all sites.</summary>
    public required long Bytes { get; init; }

    public required IReadOnlyList<AttributionSite> Sites { get; init; }

    /// <summary>Every site with its bytes, one line each in the folded format (<c>root;...;leaf bytes</c>).</summary>
    public required IReadOnlyList<string> FoldedStacks { get; init; }

    public required bool HasGrowth { get; init; }

    public string? NoGrowthReason { get; init; }

    public required long FaultedBytes { get; init; }

    public required long ReleasedBytes { get; init; }

    public required long MappedBytes { get; init; }

    public required long UnmappedBytes { get; init; }

    /// <summary>Resident faults left out because they were in file-backed mappings (code, mapped files).</summary>
    public required long FileBackedBytes { get; init; }

    public required long RssAnonGrowthBytes { get; init; }

    /// <summary>Records the kernel dropped because a ring buffer was full (PERF_RECORD_LOST).</summary>
    public required long LostEvents { get; init; }

    /// <summary>Samples whose stack could not be unwound to the outermost frame (their sites are partial).</summary>
    public required long TruncatedStacks { get; init; }

    public required int Threads { get; init; }

    public required long FaultPeriod { get; init; }

    /// <summary>CPU time MemWatch itself spent per second of capture (user + system, all its threads).</summary>
    public required double CpuSecondsPerSecond { get; init; }

    public required IReadOnlyList<string> Notes { get; init; }
}
