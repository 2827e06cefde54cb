using MemWatch.Probes.Analysis;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Daemon.Analysis;

/// <summary>The assessment of one target at its last rollup: growth over the window, forecast to the limit, verdict if any.</summary>
internal sealed record TargetAnalysis(long UnixMilliseconds, WindowGrowth Growth, ForecastResult Forecast, Verdict? Verdict)
{
    /// <summary>RSS slope over the window (Theil-Sen); NaN until two samples.</summary>
    public double GrowthBytesPerSecond => Growth.Rss.IsValid ? Growth.Rss.SlopePerSecond : double.NaN;
}
