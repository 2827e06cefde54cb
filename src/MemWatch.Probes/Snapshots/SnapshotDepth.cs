namespace MemWatch.Probes.Snapshots;

/// <summary>How much of a process a snapshot reads.</summary>
public enum SnapshotDepth
{
    /// <summary>status and stat only: cheap enough for every tick over hundreds of processes.</summary>
    Counters,

    /// <summary>Also smaps (the region model), cgroup, command line and OOM score. smaps makes the kernel walk the
    /// page tables under the target's mmap lock, so the daemon reads it at a lower, adaptive rate.</summary>
    Full,
}
