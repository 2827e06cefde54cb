using MemWatch.Probes.Allocators;

namespace MemWatch.Probes.Regions;

/// <summary>
/// A process's memory by region kind, from one pass over <c>/proc/PID/smaps</c> (proc(5)) classified by
/// <see cref="RegionClassifier"/>.
/// </summary>
public sealed record MemoryLayout
{
    /// <summary>One entry per <see cref="RegionKind"/>, in enum order (kinds with no mapping have Count 0).</summary>
    public required IReadOnlyList<RegionTotals> Regions { get; init; }

    /// <summary>Distinct glibc non-main arenas (an arena can own several heaps). Per heap under <see cref="RegionEvidence.Layout"/>.</summary>
    public required int ArenaCount { get; init; }

    /// <summary>True when the process has a <c>[heap]</c> (glibc's main arena, or sbrk memory of another allocator).</summary>
    public required bool HasMainArena { get; init; }

    public required int MappingCount { get; init; }

    public required ulong SizeBytes { get; init; }

    public required ulong RssBytes { get; init; }

    public required ulong PssBytes { get; init; }

    public required ulong SwapBytes { get; init; }

    public required RegionEvidence Evidence { get; init; }

    public required AllocatorInfo Allocator { get; init; }

    /// <summary>Threads whose stack pointer was read from <c>/proc/PID/task/TID/syscall</c> (blocked threads).</summary>
    public required int ThreadsWithStackPointer { get; init; }

    /// <summary>Of those, threads whose stack pointer lies in a mapping classified as <see cref="RegionKind.Stack"/>.</summary>
    public required int ThreadStacksFound { get; init; }

    public RegionTotals this[RegionKind kind] => Regions[(int)kind];

    /// <summary>AnonHugePages over every region.</summary>
    public ulong AnonHugePagesBytes
    {
        get
        {
            ulong sum = 0;
            foreach (RegionTotals r in Regions)
            {
                sum += r.AnonHugePagesBytes;
            }

            return sum;
        }
    }
}
