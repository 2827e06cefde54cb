namespace MemWatch.Probes.Verdicts;

/// <summary>Stable kebab-case names of <see cref="VerdictKind"/> values, for JSON and the <c>memwatch_verdict{kind}</c> label.</summary>
public static class VerdictKindNames
{
    /// <summary>Number of verdict kinds.</summary>
    public const int Count = (int)VerdictKind.BoundedCacheGrowth + 1;

    /// <summary>Every report name, in enum order: the states of <c>memwatch_verdict</c>.</summary>
    public static readonly string[] All = Enumerable.Range(0, Count).Select(i => ((VerdictKind)i).ToName()).ToArray();

    public static string ToName(this VerdictKind kind) => kind switch
    {
        VerdictKind.Stable => "stable",
        VerdictKind.Leak => "leak",
        VerdictKind.AllocatorRetention => "allocator-retention",
        VerdictKind.FileBackedGrowth => "file-backed-growth",
        VerdictKind.ManagedHeapGrowth => "managed-heap-growth",
        VerdictKind.UnexplainedGrowth => "unexplained-growth",
        VerdictKind.SharedMemoryGrowth => "shared-memory-growth",
        VerdictKind.BoundedCacheGrowth => "bounded-cache-growth",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string name, out VerdictKind kind)
    {
        for (int i = 0; i < Count; i++)
        {
            if (string.Equals(((VerdictKind)i).ToName(), name, StringComparison.Ordinal))
            {
                kind = (VerdictKind)i;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
