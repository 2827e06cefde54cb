namespace MemWatch.Daemon.Reports;

/// <summary>A growth site: frames innermost first, resident bytes still mapped at the end of the capture, and share of all such bytes.</summary>
internal sealed record AttributionSiteReport(IReadOnlyList<AttributionFrameReport> Frames, long Bytes, double Share, long MappedBytes);
