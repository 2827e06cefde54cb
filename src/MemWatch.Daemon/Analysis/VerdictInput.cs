using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Analysis;

namespace MemWatch.Daemon.Analysis;

/// <summary>What the daemon knows about a target when it asks for a verdict.</summary>
public sealed record VerdictInput(
    int Pid,
    string Comm,
    SampleWindow Window,
    WindowGrowth Growth,
    LayoutReading? Layout,
    AllocatorReading? Allocator,
    CgroupReading? Cgroup)
{
    /// <summary>The target itself (its lock is held): the region models, allocator statistics, environment and trim tracker.</summary>
    public TargetState? Target { get; init; }
}
