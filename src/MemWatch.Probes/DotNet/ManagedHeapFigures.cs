namespace MemWatch.Probes.DotNet;

/// <summary>
/// A .NET runtime's GC figures from one interval of its <c>System.Runtime</c> EventCounters. Counters the runtime did not
/// send (older runtimes) are null, never zero.
/// </summary>
/// <remarks>
/// <c>gc-heap-size</c>, <c>gc-committed</c> and <c>working-set</c> arrive in MB (10^6 bytes) as doubles: the bytes here
/// are that value times 10^6, exact to the byte for the sizes the runtime computes them from. Generation sizes are the
/// sizes after the last GC; fragmentation is sent as a percentage of the heap at the last GC and converted with the sum
/// of the generation sizes.
/// </remarks>
public sealed record ManagedHeapFigures
{
    /// <summary>Bytes in use on the GC heap now (<c>GC.GetTotalMemory(false)</c>): live objects plus garbage not yet collected.</summary>
    public required ulong GcHeapBytes { get; init; }

    /// <summary>Memory the GC had committed at the last GC (<c>GCMemoryInfo.TotalCommittedBytes</c>); null before the first GC.</summary>
    public ulong? GcCommittedBytes { get; init; }

    public ulong? Gen0Bytes { get; init; }

    public ulong? Gen1Bytes { get; init; }

    public ulong? Gen2Bytes { get; init; }

    /// <summary>Large object heap.</summary>
    public ulong? LohBytes { get; init; }

    /// <summary>Pinned object heap.</summary>
    public ulong? PohBytes { get; init; }

    /// <summary>Free space inside the heap at the last GC (<c>gc-fragmentation</c> % times the generation sizes).</summary>
    public ulong? FragmentationBytes { get; init; }

    /// <summary>Bytes allocated per second over the counter interval.</summary>
    public double? AllocationRateBytesPerSecond { get; init; }

    /// <summary>Collections of any generation during the counter interval (the counters send increments, not totals).</summary>
    public ulong? GcCount { get; init; }

    /// <summary>Gen2 (full) collections during the counter interval.</summary>
    public ulong? Gen2GcCount { get; init; }

    /// <summary>The runtime's view of its working set (<c>Environment.WorkingSet</c>).</summary>
    public ulong? WorkingSetBytes { get; init; }

    /// <summary>
    /// Heap bytes allocated since the last GC (GC heap now minus the generation sizes after the last GC, less their
    /// fragmentation): what a full GC could free beyond objects that survived the last one; null when a generation size
    /// is missing. An estimate: garbage that has sat in gen2 since before the last gen2 GC is not counted.
    /// </summary>
    public ulong? AllocatedSinceLastGcBytes
    {
        get
        {
            if (Gen0Bytes is not { } g0 || Gen1Bytes is not { } g1 || Gen2Bytes is not { } g2 || LohBytes is not { } loh || PohBytes is not { } poh)
            {
                return null;
            }

            ulong survived = g0 + g1 + g2 + loh + poh;
            survived -= Math.Min(survived, FragmentationBytes ?? 0);
            return GcHeapBytes > survived ? GcHeapBytes - survived : 0;
        }
    }

    /// <summary>Length of the counter interval the rates and counts cover; 0 when the runtime sent no alloc-rate.</summary>
    public required double IntervalSeconds { get; init; }

    public required DateTimeOffset TakenAt { get; init; }
}
