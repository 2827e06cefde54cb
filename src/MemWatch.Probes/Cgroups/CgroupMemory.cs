using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Cgroups;

/// <summary>
/// The memory state of one cgroup, v1 or v2, from its <c>memory.*</c> files (kernel Documentation/admin-guide/cgroup-v2.rst
/// "Memory"; cgroup-v1/memory.rst). Every figure is null when the kernel or the cgroup does not provide it.
/// </summary>
/// <remarks>
/// v2: <c>memory.max</c>, <c>memory.current</c>, <c>memory.peak</c> (6.x), <c>memory.high</c>, <c>memory.low</c>,
/// <c>memory.min</c>, <c>memory.swap.max</c>, <c>memory.swap.current</c>, <c>memory.stat</c>, <c>memory.events</c>,
/// <c>memory.pressure</c>. v1: <c>memory.limit_in_bytes</c>, <c>memory.usage_in_bytes</c>,
/// <c>memory.max_usage_in_bytes</c>, <c>memory.memsw.limit_in_bytes</c>, <c>memory.stat</c>, <c>memory.oom_control</c>;
/// its pressure comes from the unified hierarchy when a hybrid host mounts one.
/// </remarks>
public sealed record CgroupMemory
{
    /// <summary>1 or 2.</summary>
    public required int Version { get; init; }

    /// <summary>The cgroup path as <c>/proc/PID/cgroup</c> names it.</summary>
    public required string Path { get; init; }

    /// <summary>The cgroupfs directory read.</summary>
    public required string Directory { get; init; }

    /// <summary>This cgroup's own hard limit (v2 <c>memory.max</c>, v1 <c>memory.limit_in_bytes</c>); null = unlimited.</summary>
    public ulong? LimitBytes { get; init; }

    /// <summary>
    /// The limit that actually applies: the smallest among this cgroup and its visible ancestors (and, on v1, the
    /// kernel's <c>hierarchical_memory_limit</c>); null = unlimited as far as this process can see.
    /// </summary>
    public ulong? EffectiveLimitBytes { get; init; }

    /// <summary>v2 <c>memory.current</c>; v1 <c>memory.usage_in_bytes</c>. Includes page cache and descendants.</summary>
    public ulong? UsageBytes { get; init; }

    /// <summary>v2 <c>memory.peak</c> (kernel 5.19+); v1 <c>memory.max_usage_in_bytes</c>.</summary>
    public ulong? PeakBytes { get; init; }

    /// <summary>v2 <c>memory.high</c> throttle limit; null = none or v1.</summary>
    public ulong? HighBytes { get; init; }

    /// <summary>v2 <c>memory.low</c> best-effort protection.</summary>
    public ulong? LowBytes { get; init; }

    /// <summary>v2 <c>memory.min</c> hard protection.</summary>
    public ulong? MinBytes { get; init; }

    /// <summary>v2 <c>memory.swap.max</c>; null = unlimited or not reported.</summary>
    public ulong? SwapLimitBytes { get; init; }

    /// <summary>v2 <c>memory.swap.current</c>; v1 <c>swap</c> of memory.stat (with swap accounting).</summary>
    public ulong? SwapUsageBytes { get; init; }

    /// <summary>v1 <c>memory.memsw.limit_in_bytes</c>: memory plus swap; null = unlimited, not accounted, or v2.</summary>
    public ulong? MemorySwapLimitBytes { get; init; }

    public MemoryStat? Stat { get; init; }

    public CgroupMemoryEvents? Events { get; init; }

    /// <summary>v2 <c>memory.pressure</c> of this cgroup (on hybrid hosts, of the process's unified-hierarchy cgroup).</summary>
    public PressureStall? Pressure { get; init; }

    /// <summary>OOM kills in this cgroup (and descendants on v2), when the kernel counts them.</summary>
    public ulong? OomKills => Events?.OomKills;

    /// <summary>Usage minus inactive page cache (what kubelet and cAdvisor call the working set).</summary>
    public ulong? WorkingSetBytes => UsageBytes is ulong usage && Stat?.InactiveFileBytes is ulong inactive
        ? usage - Math.Min(usage, inactive)
        : UsageBytes;

    /// <summary>Reads the memory files of a resolved cgroup; false when its directory no longer exists.</summary>
    public static bool TryRead(CgroupLocation location, FileBuffer buffer, [NotNullWhen(true)] out CgroupMemory? value)
    {
        value = null;
        if (!System.IO.Directory.Exists(location.Directory))
        {
            return false;
        }

        value = location.Version == 1 ? ReadV1(location, buffer) : ReadV2(location, buffer);
        return true;
    }

    private static CgroupMemory ReadV2(CgroupLocation location, FileBuffer buffer)
    {
        string dir = location.Directory;
        ulong? limit = CgroupValueFile.ReadLimit(dir, "memory.max", buffer).Limit;
        return new CgroupMemory
        {
            Version = 2,
            Path = location.Path,
            Directory = dir,
            LimitBytes = limit,
            EffectiveLimitBytes = EffectiveLimit(location, "memory.max", buffer, limit),
            UsageBytes = CgroupValueFile.ReadUInt64(dir, "memory.current", buffer),
            PeakBytes = CgroupValueFile.ReadUInt64(dir, "memory.peak", buffer),
            HighBytes = CgroupValueFile.ReadLimit(dir, "memory.high", buffer).Limit,
            LowBytes = CgroupValueFile.ReadUInt64(dir, "memory.low", buffer),
            MinBytes = CgroupValueFile.ReadUInt64(dir, "memory.min", buffer),
            SwapLimitBytes = CgroupValueFile.ReadLimit(dir, "memory.swap.max", buffer).Limit,
            SwapUsageBytes = CgroupValueFile.ReadUInt64(dir, "memory.swap.current", buffer),
            Stat = ReadStat(dir, buffer),
            Events = buffer.TryLoad(dir + "/memory.events") ? CgroupMemoryEvents.ParseEvents(buffer.Span, dir + "/memory.events") : null,
            Pressure = ReadPressure(location, buffer),
        };
    }

    private static CgroupMemory ReadV1(CgroupLocation location, FileBuffer buffer)
    {
        string dir = location.Directory;
        ulong? limit = CgroupValueFile.ReadLimit(dir, "memory.limit_in_bytes", buffer).Limit;
        MemoryStat? stat = ReadStat(dir, buffer);
        ulong? effective = EffectiveLimit(location, "memory.limit_in_bytes", buffer, limit);
        if (stat?.HierarchicalLimitBytes is ulong hierarchical)
        {
            // The kernel's own answer covers ancestors this process cannot see (a container's mount root).
            effective = effective is ulong e ? Math.Min(e, hierarchical) : hierarchical;
        }

        return new CgroupMemory
        {
            Version = 1,
            Path = location.Path,
            Directory = dir,
            LimitBytes = limit,
            EffectiveLimitBytes = effective,
            UsageBytes = CgroupValueFile.ReadUInt64(dir, "memory.usage_in_bytes", buffer),
            PeakBytes = CgroupValueFile.ReadUInt64(dir, "memory.max_usage_in_bytes", buffer),
            SwapUsageBytes = stat?.SwapBytes,
            MemorySwapLimitBytes = CgroupValueFile.ReadLimit(dir, "memory.memsw.limit_in_bytes", buffer).Limit,
            Stat = stat,
            Events = buffer.TryLoad(dir + "/memory.oom_control") ? CgroupMemoryEvents.ParseOomControl(buffer.Span, dir + "/memory.oom_control") : null,
            Pressure = ReadPressure(location, buffer),
        };
    }

    private static MemoryStat? ReadStat(string dir, FileBuffer buffer)
    {
        string path = dir + "/memory.stat";
        return buffer.TryLoad(path) ? MemoryStat.Parse(buffer.Span, path) : null;
    }

    private static PressureStall? ReadPressure(CgroupLocation location, FileBuffer buffer)
        => location.PressureDirectory is string pressureDir
           && PressureStall.TryReadFile(pressureDir + "/memory.pressure", buffer, out PressureStall? pressure)
            ? pressure
            : null;

    /// <summary>Walks from the cgroup up to its mount's directory and keeps the smallest limit found.</summary>
    private static ulong? EffectiveLimit(CgroupLocation location, string file, FileBuffer buffer, ulong? own)
    {
        ulong? min = own;
        string dir = location.Directory;
        while (dir.Length > location.MountDirectory.Length && dir.StartsWith(location.MountDirectory, StringComparison.Ordinal))
        {
            int slash = dir.LastIndexOf('/');
            if (slash <= 0)
            {
                break;
            }

            dir = dir[..slash];
            if (CgroupValueFile.ReadLimit(dir, file, buffer).Limit is ulong limit)
            {
                min = min is ulong m ? Math.Min(m, limit) : limit;
            }
        }

        return min;
    }
}
