using MemWatch.Probes.Analysis;

namespace MemWatch.Daemon.Analysis;

/// <summary>The analysis of one target at its last rollup: growth over the window, forecast to the limit, verdict if any.</summary>
public sealed record TargetAnalysis(long UnixMilliseconds, WindowGrowth Growth, ForecastResult Forecast, VerdictAssessment? Verdict)
{
    /// <summary>RSS slope over the window (Theil-Sen); NaN until two samples.</summary>
    public double GrowthBytesPerSecond => Growth.Rss.IsValid ? Growth.Rss.SlopePerSecond : double.NaN;
}
