namespace MemWatch.Daemon.Configuration;

internal sealed class SamplingOptions
{
    /// <summary>status and stat of every target (and discovery of new ones).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>smaps_rollup (PSS, swap) and the cgroup; also the growth and forecast analysis.</summary>
    public TimeSpan RollupInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Full smaps: the region model. Stretched per target when its reads are slow (the kernel holds the mmap lock).</summary>
    public TimeSpan SmapsInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Allocator statistics through remote calls, and .NET GC counters, only for targets whose rule sets Introspect.</summary>
    public TimeSpan IntrospectInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How much history each target's trend window keeps.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most processes watched at once; bounds the metrics' cardinality.</summary>
    public int MaxTargets { get; set; } = 500;

    /// <summary>
    /// Where the host's cgroup tree is mounted when the daemon runs in a container (<c>/host/sys/fs/cgroup</c> in the
    /// chart): targets' cgroups are resolved through the cgroup mounts at or below it, whatever the daemon's own
    /// cgroup namespace. Null (the default) uses every cgroup mount the daemon sees, which on a host is the host's.
    /// </summary>
    public string? HostCgroupRoot { get; set; }

    /// <summary>
    /// The proc filesystem the daemon watches (default <c>/proc</c>): processes, their files, meminfo and pressure,
    /// and the mountinfo through which cgroups are found. Another tree for a fixture (the golden /metrics test).
    /// </summary>
    public string ProcRoot { get; set; } = MemWatch.Probes.ProcFs.ProcFileSystem.DefaultRoot;

    /// <summary>Where sysfs is read (default <c>/sys</c>): cgroup mounts that mountinfo places under /sys are read beneath it.</summary>
    public string SysRoot { get; set; } = MemWatch.Probes.ProcFs.ProcFileSystem.DefaultSysRoot;
}
