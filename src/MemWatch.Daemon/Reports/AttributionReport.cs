using MemWatch.Probes.Attribution;

namespace MemWatch.Daemon.Reports;

/// <summary>
/// The <c>attribution</c> section of <c>inspect --attribute</c> and of the daemon's attribution route: where the
/// growth of the capture came from (docs/attribution.md). <c>sites</c> is empty and <c>summary</c> starts with
/// "no growth to attribute" when the process only churned.
/// </summary>
/// <remarks>
/// A shape of its own rather than <see cref="AttributionResult"/> serialized: the JSON carries a <c>summary</c> in place
/// of <c>NoGrowthReason</c>, rounded seconds, shares and CPU figures, frames without <c>Label</c>, and no
/// <c>FoldedStacks</c> (one line per site; written to the --folded file instead). Hiding those from the Probes record
/// would tie the library's types to this contract.
/// </remarks>
internal sealed record AttributionReport
{
    public required int Pid { get; init; }

    public required double Seconds { get; init; }

    public required long Events { get; init; }

    public required long Bytes { get; init; }

    public required IReadOnlyList<AttributionSiteReport> Sites { get; init; }

    public required bool HasGrowth { get; init; }

    public required string Summary { get; init; }

    public required long FaultedBytes { get; init; }

    public required long ReleasedBytes { get; init; }

    public required long MappedBytes { get; init; }

    public required long UnmappedBytes { get; init; }

    public required long FileBackedBytes { get; init; }

    public required long RssAnonGrowthBytes { get; init; }

    public required long LostEvents { get; init; }

    public required long TruncatedStacks { get; init; }

    public required int Threads { get; init; }

    public required long FaultPeriod { get; init; }

    public required double CpuSecondsPerSecond { get; init; }

    public required IReadOnlyList<string> Notes { get; init; }

    public static AttributionReport From(AttributionResult r) => new()
    {
        Pid = r.Pid,
        Seconds = Math.Round(r.Seconds, 3),
        Events = r.Events,
        Bytes = r.Bytes,
        Sites = r.Sites.Select(s => new AttributionSiteReport(
            s.Frames.Select(f => new AttributionFrameReport(f.Function, f.Module, f.Offset)).ToList(), s.Bytes, Math.Round(s.Share, 4), s.MappedBytes)).ToList(),
        HasGrowth = r.HasGrowth,
        Summary = r.HasGrowth
            ? $"{ByteSize.Format((ulong)r.Bytes)} of growth attributed to {r.Sites.Count} site(s) over {r.Seconds:0.0} s"
            : r.NoGrowthReason ?? "no growth to attribute",
        FaultedBytes = r.FaultedBytes,
        ReleasedBytes = r.ReleasedBytes,
        MappedBytes = r.MappedBytes,
        UnmappedBytes = r.UnmappedBytes,
        FileBackedBytes = r.FileBackedBytes,
        RssAnonGrowthBytes = r.RssAnonGrowthBytes,
        LostEvents = r.LostEvents,
        TruncatedStacks = r.TruncatedStacks,
        Threads = r.Threads,
        FaultPeriod = r.FaultPeriod,
        CpuSecondsPerSecond = Math.Round(r.CpuSecondsPerSecond, 5),
        Notes = r.Notes,
    };
}
