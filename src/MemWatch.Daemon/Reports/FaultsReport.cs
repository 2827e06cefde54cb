namespace MemWatch.Daemon.Reports;

/// <summary>Page faults: totals since the process started, and rates over the --watch window.</summary>
internal sealed record FaultsReport
{
    public required ulong MinorTotal { get; init; }

    public required ulong MajorTotal { get; init; }

    public double? MinorPerSecond { get; init; }

    public double? MajorPerSecond { get; init; }
}
