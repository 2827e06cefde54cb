namespace MemWatch.Probes.Attribution;

/// <summary>Knobs of an attribution capture; the defaults are what inspect and the daemon use.</summary>
public sealed record AttributionOptions
{
    /// <summary>One page fault in this many is sampled; each sample weighs page size × period. Default 1 (every fault).</summary>
    public ulong FaultPeriod { get; init; } = 1;

    /// <summary>Bytes of user stack copied per sample (PERF_SAMPLE_STACK_USER); .NET targets get twice this.</summary>
    public uint StackBytes { get; init; } = 8 * 1024;

    /// <summary>Pages of each CPU's ring buffers (a power of two; halved when the locked-memory limit refuses it).</summary>
    public int RingPages { get; init; } = 1024;

    /// <summary>Below this, resident growth (sampled and RSS) counts as none. Default 1 MiB.</summary>
    public long MinGrowthBytes { get; init; } = 1024 * 1024;

    /// <summary>Sites kept in <see cref="AttributionResult.Sites"/> (the folded stacks keep all).</summary>
    public int MaxSites { get; init; } = 20;

    public int MaxFrames { get; init; } = 128;
}
