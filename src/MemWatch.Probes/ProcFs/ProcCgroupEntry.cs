namespace MemWatch.Probes.ProcFs;

/// <summary>One line of <c>/proc/PID/cgroup</c>: <c>hierarchy-ID:controller-list:cgroup-path</c> (cgroups(7)).</summary>
/// <param name="HierarchyId">0 for the cgroup v2 unified hierarchy; the v1 hierarchy number otherwise.</param>
/// <param name="Controllers">Comma-separated v1 controllers (<c>cpu,cpuacct</c>, <c>name=systemd</c>); empty for v2.</param>
/// <param name="Path">
/// The cgroup path relative to the reader's cgroup namespace root (may start with <c>/..</c> when the target
/// lies outside that namespace, and may contain ':'). A trailing <c> (deleted)</c> is removed and reported in
/// <paramref name="IsDeleted"/>.
/// </param>
/// <param name="IsDeleted">The v2 cgroup was removed while the process still belongs to it (a zombie cgroup).</param>
public readonly record struct ProcCgroupEntry(int HierarchyId, string Controllers, string Path, bool IsDeleted)
{
    /// <summary>True when this is the cgroup v2 (unified) line, <c>0::/path</c>.</summary>
    public bool IsUnified => HierarchyId == 0 && Controllers.Length == 0;

    /// <summary>True when <paramref name="controller"/> is one of the comma-separated v1 controllers.</summary>
    public bool HasController(string controller) => MemWatch.Probes.Cgroups.CommaList.Contains(Controllers, controller);
}
