namespace MemWatch.Daemon.Sampling;

/// <summary>The memory cgroup of a target at its last rollup. Limits are null when unlimited or unknown.</summary>
internal sealed record CgroupReading(string Path, ulong? EffectiveLimitBytes, ulong? UsageBytes, ulong? ReclaimableBytes, ulong? OomKills)
{
    /// <summary>memory.pressure; null on cgroup v1 or without PSI.</summary>
    public MemWatch.Probes.ProcFs.PressureStall? Pressure { get; init; }
}
