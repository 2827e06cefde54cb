namespace MemWatch.Probes.Discovery;

/// <summary>A process that matched a <see cref="ProcessSelector"/>, with what was read to decide.</summary>
/// <param name="Pid">The process id in the namespace of the proc root that was read.</param>
/// <param name="Comm">The process name.</param>
/// <param name="Uid">The real user id.</param>
/// <param name="RssBytes">VmRSS at discovery.</param>
/// <param name="CgroupPath">The memory (or unified) cgroup path when the selector needed it, else null.</param>
public sealed record DiscoveredProcess(int Pid, string Comm, uint Uid, ulong RssBytes, string? CgroupPath);
