namespace MemWatch.Daemon.Reports;

/// <summary>What <c>memwatch gc PID</c> did (and <c>POST /api/targets/{pid}/gc</c> later): before/after figures.</summary>
internal sealed record GcReport
{
    public required int Pid { get; init; }

    /// <summary>"released" when the heap shrank, "requested" when the GC ran but freed nothing.</summary>
    public required string Result { get; init; }

    public required ulong HeapBeforeBytes { get; init; }

    public required ulong HeapAfterBytes { get; init; }

    public required ulong ReclaimedBytes { get; init; }

    public ulong? CommittedBeforeBytes { get; init; }

    public ulong? CommittedAfterBytes { get; init; }

    public ulong? RssBeforeBytes { get; init; }

    public ulong? RssAfterBytes { get; init; }

    /// <summary>True when the runtime's events for the induced gen2 GC were seen.</summary>
    public required bool GcObserved { get; init; }

    public double? PauseMilliseconds { get; init; }

    public required double DurationMilliseconds { get; init; }
}
