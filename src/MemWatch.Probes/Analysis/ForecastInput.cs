namespace MemWatch.Probes.Analysis;

/// <summary>What <see cref="Forecast.ToLimit"/> needs: the limit, what is charged against it now, and the growth.</summary>
public sealed record ForecastInput
{
    /// <summary>The limit in bytes: cgroup memory.max, or MemTotal for the host. Zero, negative or infinite = no limit.</summary>
    public required double LimitBytes { get; init; }

    /// <summary>
    /// Bytes charged against the limit now, counting every member of the cgroup (memory.current), or for the host
    /// MemTotal − MemAvailable. The process's own usage is part of it.
    /// </summary>
    public required double UsageBytes { get; init; }

    /// <summary>Part of <see cref="UsageBytes"/> the kernel reclaims before an OOM kill (e.g. inactive_file of memory.stat).</summary>
    public double ReclaimableBytes { get; init; }

    /// <summary>The process's growth over the window (usually the RSS or anon trend).</summary>
    public required TrendEstimate ProcessTrend { get; init; }

    /// <summary>The same series over the newest part of the window; when flat, a warm-up has ended.</summary>
    public TrendEstimate? RecentProcessTrend { get; init; }

    /// <summary>Combined growth of the cgroup's other members, bytes per second; 0 when not known.</summary>
    public double OtherMembersBytesPerSecond { get; init; }

    /// <summary>Memory PSI of the cgroup (or the host); null when not available (cgroup v1, PSI disabled).</summary>
    public PressureAverages? Pressure { get; init; }

    public LimitScope Scope { get; init; } = LimitScope.Cgroup;
}
