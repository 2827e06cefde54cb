namespace MemWatch.Daemon.Http;

/// <summary>One watched process in GET /api/targets: what the daemon last read and concluded.</summary>
internal sealed record TargetSummary
{
    public required int Pid { get; init; }

    public required string Comm { get; init; }

    public required string Rule { get; init; }

    public required string Unit { get; init; }

    public required string ContainerId { get; init; }

    public required string CgroupPath { get; init; }

    public required bool Introspect { get; init; }

    public required bool AllowActions { get; init; }

    public required bool TrimPolicy { get; init; }

    public required DateTimeOffset SampledAt { get; init; }

    public required ulong RssBytes { get; init; }

    public ulong? PssBytes { get; init; }

    public required ulong AnonBytes { get; init; }

    public required ulong FileBytes { get; init; }

    public required ulong ShmemBytes { get; init; }

    public required ulong SwapBytes { get; init; }

    public required ulong RssHighWaterBytes { get; init; }

    public required int Samples { get; init; }

    public double? GrowthBytesPerSecond { get; init; }

    public string? Forecast { get; init; }

    public double? SecondsToLimit { get; init; }

    public string? ForecastReason { get; init; }

    public ulong? CgroupLimitBytes { get; init; }

    public ulong? CgroupUsageBytes { get; init; }

    public string? Allocator { get; init; }

    public int? GlibcArenas { get; init; }

    public ulong? AllocatorInUseBytes { get; init; }

    public ulong? AllocatorFreeBytes { get; init; }

    public ulong? AllocatorReleasableBytes { get; init; }

    /// <summary>The classifier's verdict (kind, mechanism, confidence, summary, evidence, recommendations), as in <c>memwatch inspect --json</c>; null until the window has a few samples.</summary>
    public MemWatch.Daemon.Reports.VerdictReport? Verdict { get; init; }

    public double? VerdictConfidence { get; init; }

    /// <summary>GC heap of a .NET target at the last counter read (rules with Introspect); null otherwise.</summary>
    public ulong? DotnetGcHeapBytes { get; init; }

    public ulong? DotnetGcCommittedBytes { get; init; }

    public DateTimeOffset? DotnetReadAt { get; init; }

    public DateTimeOffset? LastTrimAt { get; init; }

    /// <summary>Why MemWatch stopped introspecting and trimming this process (a remote call could not be rolled back); null when it did not.</summary>
    public string? Quarantine { get; init; }
}
