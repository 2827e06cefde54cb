namespace MemWatch.Probes.Regions;

/// <summary>What a <see cref="MemoryLayout"/>'s classification rests on.</summary>
public enum RegionEvidence
{
    /// <summary>
    /// Layout only: mapping shapes and neighbours (64 MiB-aligned reservations, guard pages). <c>/proc/PID/mem</c> was not
    /// readable, so arenas are counted per heap (an arena with several heaps counts several times) and glibc mmapped
    /// chunks are not told apart from other anonymous memory.
    /// </summary>
    Layout,

    /// <summary>Layout confirmed by the process's memory: heap_info.ar_ptr of arena heaps and chunk headers of mmapped chunks.</summary>
    Memory,
}
