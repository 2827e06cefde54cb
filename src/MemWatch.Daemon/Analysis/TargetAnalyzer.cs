using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.ProcFs;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Analysis;

/// <summary>
/// Growth (Theil-Sen over the window) and the forecast to the cgroup limit, or the host's when the cgroup has none,
/// for one target; asks <see cref="IVerdictProvider"/> for the verdict. Logs a forecast or verdict change once.
/// </summary>
/// <remarks>Runs on the sampler thread (the window belongs to it); not thread safe.</remarks>
public sealed partial class TargetAnalyzer
{
    // 2048 pairwise slopes per trend (of up to ~260 000 in an hour at 5 s) keep the median and its interval stable
    // while a rollup of hundreds of targets stays cheap.
    private readonly GrowthAnalyzer _growth = new(maxPairs: 2048);
    private readonly IVerdictProvider _verdicts;
    private readonly ILogger _log;

    public TargetAnalyzer(IVerdictProvider verdicts, ILogger<TargetAnalyzer> log)
    {
        _verdicts = verdicts;
        _log = log;
    }

    /// <summary>Analyzes <paramref name="target"/>; call with its lock held.</summary>
    public TargetAnalysis Analyze(TargetState target, Meminfo? host, long unixMilliseconds)
    {
        WindowGrowth growth = _growth.Analyze(target.Window);
        ForecastInput input = ForecastInputFor(target.Cgroup, host, growth);
        ForecastResult forecast = Forecast.ToLimit(input);
        VerdictAssessment? verdict = _verdicts.Assess(
            new VerdictInput(target.Pid, target.Comm, target.Window, growth, target.Layout, target.Allocator, target.Cgroup) { Target = target });

        TargetAnalysis? previous = target.Analysis;
        // Only entering or leaving a forecast is news; flapping between the reasons for no forecast is not.
        if (IsForecasting(forecast) != (previous is not null && IsForecasting(previous.Forecast)))
        {
            LogForecastChanged(target.Pid, target.Comm, forecast.Outcome, forecast.Reason);
        }

        if (verdict is not null && previous?.Verdict?.Kind != verdict.Kind)
        {
            LogVerdictChanged(target.Pid, target.Comm, verdict.Kind, verdict.Confidence, verdict.Reason);
        }

        return new TargetAnalysis(unixMilliseconds, growth, forecast, verdict);
    }

    private static bool IsForecasting(ForecastResult f) => f.Outcome is ForecastOutcome.Forecast or ForecastOutcome.AtLimit;

    public static ForecastInput ForecastInputFor(CgroupReading? cgroup, Meminfo? host, WindowGrowth growth)
    {
        if (cgroup is { EffectiveLimitBytes: { } limit, UsageBytes: { } usage })
        {
            return new ForecastInput
            {
                LimitBytes = limit,
                UsageBytes = usage,
                ReclaimableBytes = cgroup.ReclaimableBytes ?? 0,
                ProcessTrend = growth.Rss,
                RecentProcessTrend = growth.RecentRss,
                Scope = LimitScope.Cgroup,
            };
        }

        double total = host?.MemTotalBytes ?? 0;
        return new ForecastInput
        {
            LimitBytes = total,
            UsageBytes = host is { MemAvailableBytes: { } available } ? total - available : 0,
            ProcessTrend = growth.Rss,
            RecentProcessTrend = growth.RecentRss,
            Scope = LimitScope.Host,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "target {Pid} ({Comm}): forecast {Outcome}: {Reason}")]
    private partial void LogForecastChanged(int pid, string comm, ForecastOutcome outcome, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "target {Pid} ({Comm}): verdict {Verdict} (confidence {Confidence:0.00}): {Reason}")]
    private partial void LogVerdictChanged(int pid, string comm, string verdict, double confidence, string reason);
}
