namespace MemWatch.Probes.Cgroups;

/// <summary>Where a process's memory cgroup is, as resolved by <see cref="CgroupResolver"/>.</summary>
/// <param name="Version">1 when the memory controller is on a v1 hierarchy, 2 on the unified hierarchy.</param>
/// <param name="Path">
/// The cgroup path as <c>/proc/PID/cgroup</c> lists it (<c>/system.slice/foo.service</c>,
/// <c>/kubepods/burstable/pod.../&lt;container-id&gt;</c>): relative to the reader's cgroup namespace.
/// </param>
/// <param name="Directory">The cgroupfs directory holding the cgroup's <c>memory.*</c> files.</param>
/// <param name="MountDirectory">The directory of the mount that <paramref name="Directory"/> was reached through;
/// ancestors above it are not visible to this process.</param>
/// <param name="PressureDirectory">
/// The cgroup v2 directory whose <c>memory.pressure</c> applies: <paramref name="Directory"/> on v2; on a hybrid host
/// the process's unified-hierarchy cgroup (PSI is tracked there even while memory is bound to v1); null when none is visible.
/// </param>
public sealed record CgroupLocation(int Version, string Path, string Directory, string MountDirectory, string? PressureDirectory)
{
    private readonly string? _hostPath;

    /// <summary>
    /// <see cref="Path"/> placed on the topmost level this process sees: the host's path when the host's tree is
    /// mounted and the reader is in a cgroup namespace of its own; otherwise <see cref="Path"/>.
    /// </summary>
    public string HostPath
    {
        get => _hostPath ?? Path;
        init => _hostPath = value == Path ? null : value;
    }
}
