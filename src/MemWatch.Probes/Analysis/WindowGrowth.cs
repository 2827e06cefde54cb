namespace MemWatch.Probes.Analysis;

/// <summary>The growth of one process over its <see cref="SampleWindow"/>: robust trends per series, fault rates and peaks.</summary>
/// <param name="Samples">Samples in the window.</param>
/// <param name="SpanSeconds">Time from the oldest to the newest sample.</param>
/// <param name="Rss">RSS trend over the whole window.</param>
/// <param name="RecentRss">The RSS trend over the newest half of the window; a flat recent trend after a rising whole-window
/// trend marks a warm-up that has ended.</param>
/// <param name="Anon">Anonymous RSS trend.</param>
/// <param name="File">File-backed RSS trend.</param>
/// <param name="AllocatorInUse">Null when no sample in the window was introspected.</param>
/// <param name="AllocatorFree">Null when no sample in the window was introspected.</param>
/// <param name="Faults">Fault rates over the whole window; null with fewer than two samples.</param>
/// <param name="RecentFaults">Fault rates over the newest half of the window.</param>
/// <param name="RssLatestBytes">RSS of the newest sample.</param>
/// <param name="RssHighWaterBytes">Highest RSS since the process was first sampled.</param>
/// <param name="AnonHighWaterBytes">Highest anonymous RSS since the process was first sampled.</param>
public sealed record WindowGrowth(
    int Samples,
    double SpanSeconds,
    TrendEstimate Rss,
    TrendEstimate RecentRss,
    TrendEstimate Anon,
    TrendEstimate File,
    TrendEstimate? AllocatorInUse,
    TrendEstimate? AllocatorFree,
    FaultRates? Faults,
    FaultRates? RecentFaults,
    ulong RssLatestBytes,
    ulong RssHighWaterBytes,
    ulong AnonHighWaterBytes);
