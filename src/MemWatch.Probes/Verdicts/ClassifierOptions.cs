namespace MemWatch.Probes.Verdicts;

/// <summary>Every threshold the <see cref="Classifier"/> uses, named; docs/verdicts.md explains each.</summary>
public sealed record ClassifierOptions
{
    public static ClassifierOptions Default { get; } = new();

    /// <summary>Growth over the window below this is not significant, whatever its slope.</summary>
    public ulong MinGrowthBytes { get; init; } = 8UL << 20;

    /// <summary>Growth over the window below this fraction of RSS is not significant.</summary>
    public double MinGrowthFractionOfRss { get; init; } = 0.02;

    /// <summary>Growth is ongoing when the newest half of the window still grows at this fraction of the whole window's slope.</summary>
    public double OngoingRecentSlopeFraction { get; init; } = 0.5;

    /// <summary>A series explains growth when its own growth is at least this share of the RSS growth.</summary>
    public double ExplainingShare { get; init; } = 0.5;

    /// <summary>Minor faults per second during growth below which anonymous growth is not called a leak passively.</summary>
    public double MinLeakMinorFaultsPerSecond { get; init; } = 1;

    /// <summary>After a burst, RSS at or above this fraction of its high-water mark counts as "still at the high-water mark".</summary>
    public double HighWaterFraction { get; init; } = 0.9;

    /// <summary>Minor faults per second in the newest half of the window at or below which the process is "quiet" (pages reused).</summary>
    public double QuietMinorFaultsPerSecond { get; init; } = 64;

    /// <summary>Allocator free bytes at or above this share of anonymous RSS are "a large share" (retention when in-use is flat).</summary>
    public double RetainedShareOfAnon { get; init; } = 0.25;

    /// <summary>Allocator free bytes below this are never called retention, whatever their share.</summary>
    public ulong MinRetainedBytes { get; init; } = 16UL << 20;

    /// <summary>Passive arena proliferation: at least this many non-main glibc arenas.</summary>
    public int MinArenasForProliferation { get; init; } = 4;

    /// <summary>
    /// mmap-threshold-raised: mmapped chunk bytes that disappeared (hblkhd, or mmap-chunk RSS passively) are at least this
    /// share of the heap's free (or grown) bytes.
    /// </summary>
    public double MmapShiftShare { get; init; } = 0.5;

    /// <summary>A mechanism is named when the bytes it holds are at least this share of the allocator's free bytes (checked in the order of docs/verdicts.md).</summary>
    public double DominantShare { get; init; } = 0.5;

    /// <summary>
    /// glibc bins: free chunks (regular and unsorted bins, from malloc_info) smaller than this on average are
    /// fragmentation (pieces between live chunks); larger, a pinned top (large free chunks below a live one).
    /// </summary>
    public double FragmentMaxAverageChunkBytes { get; init; } = 256 * 1024;

    /// <summary>glibc bins, when malloc_info's chunk counts are missing: free bytes the trim model can release at or above this share mean a pinned top; below, fragmentation.</summary>
    public double PinnedReleasableShare { get; init; } = 0.5;

    /// <summary>Trim efficacy: a release whose bytes came back at or above this fraction is "re-faulted".</summary>
    public double TrimRefaultFraction { get; init; } = 0.5;

    /// <summary>Trim efficacy: releases smaller than this are not judged.</summary>
    public ulong MinJudgedReleaseBytes { get; init; } = 16UL << 20;

    /// <summary>Confidence of a leak seen with the allocator's in-use bytes rising with RSS.</summary>
    public double IntrospectedLeakConfidence { get; init; } = 0.9;

    /// <summary>Confidence of retention seen with the allocator's free bytes.</summary>
    public double IntrospectedRetentionConfidence { get; init; } = 0.85;

    /// <summary>Confidence of a leak from RSS, anonymous RSS and faults rising together (retention can look the same).</summary>
    public double PassiveLeakConfidence { get; init; } = 0.6;

    /// <summary>Confidence of retention from a burst followed by a quiet plateau at the high-water mark (a one-off load of live data looks the same).</summary>
    public double PassiveRetentionConfidence { get; init; } = 0.45;

    /// <summary>Confidence of file-backed, managed-heap and unexplained growth, whose series measure them directly.</summary>
    public double SeriesGrowthConfidence { get; init; } = 0.8;

    /// <summary>Confidence of stable with no significant growth; lower when RSS sits at its high-water mark and nothing says why.</summary>
    public double StableConfidence { get; init; } = 0.8;

    /// <summary>Confidence of stable confirmed by the allocator's figures.</summary>
    public double IntrospectedStableConfidence { get; init; } = 0.9;

    /// <summary>Threads added over the window, at least, for a thread leak (a pool warming up adds a few once).</summary>
    public int MinThreadGrowth { get; init; } = 8;

    /// <summary>And at least this fraction of the threads at the window's start.</summary>
    public double MinThreadGrowthFraction { get; init; } = 0.25;

    /// <summary>Confidence of verdicts the runtime's own heap figures (or RssShmem, or a declared limit) measure directly.</summary>
    public double RuntimeConfidence { get; init; } = 0.85;

    /// <summary>A cache process may exceed its declared item memory by this fraction plus <see cref="MinRetainedBytes"/> (hash table, connections) and still be filling it.</summary>
    public double CacheOverheadFraction { get; init; } = 0.5;

    /// <summary>Share of anonymous RSS in transparent huge pages above which retention names them.</summary>
    public double HugePageShareOfAnon { get; init; } = 0.5;
}
