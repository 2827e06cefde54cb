namespace MemWatch.Daemon.Reports;

/// <summary>The memory cgroup the process belongs to.</summary>
internal sealed record CgroupReport
{
    /// <summary>1 or 2.</summary>
    public required int Version { get; init; }

    /// <summary>The cgroup path as the process sees it, e.g. /system.slice/nginx.service.</summary>
    public required string Path { get; init; }

    /// <summary>The effective limit (the smallest among the cgroup and its ancestors); null when unlimited.</summary>
    public ulong? LimitBytes { get; init; }

    public ulong? UsageBytes { get; init; }

    public ulong? PeakBytes { get; init; }

    public ulong? HighBytes { get; init; }

    public ulong? LowBytes { get; init; }

    public ulong? OomKills { get; init; }

    public ulong? AnonBytes { get; init; }

    public ulong? FileBytes { get; init; }

    public ulong? ShmemBytes { get; init; }

    /// <summary>Share of time in the last 10 s some task of the cgroup stalled on memory (PSI some avg10, percent).</summary>
    public double? PressureSomeAvg10 { get; init; }
}
