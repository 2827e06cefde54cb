namespace MemWatch.Probes.Allocators.Models;

/// <summary>Where the evidence for a retention mechanism comes from.</summary>
public enum ObservationSource
{
    /// <summary>The region model built from <c>/proc/[pid]/maps</c> and <c>smaps</c>.</summary>
    RegionModel,

    /// <summary>minflt/majflt of <c>/proc/[pid]/stat</c> beside RSS over time.</summary>
    FaultCounters,

    /// <summary>The allocator's own counters, read by introspection (mallinfo2, malloc_info, mallctl, MallocExtension).</summary>
    AllocatorCounters,

    /// <summary>The process's environment (<c>/proc/[pid]/environ</c>).</summary>
    Environment,
}
