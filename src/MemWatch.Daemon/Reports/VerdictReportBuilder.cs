using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Snapshots;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Daemon.Reports;

/// <summary>Classifies a watched window and forecasts the limit, as <see cref="VerdictReport"/> and <see cref="ForecastReport"/>.</summary>
internal static class VerdictReportBuilder
{
    /// <param name="earliest">The full snapshot at the start of the window (its region model shows mmapped chunks turning into heap).</param>
    /// <param name="latest">The full snapshot at the end of the window.</param>
    /// <param name="environment">The process's environment, for the allocator's effective parameters; null when unreadable.</param>
    /// <param name="latestStatistics">The allocator's figures at the end of the window (--introspect), or null.</param>
    /// <param name="earliestStatistics">The allocator's figures at the start of the window, or null.</param>
    /// <param name="latestManaged">The .NET runtime's GC figures at the end of the window, or null.</param>
    /// <param name="earliestManaged">The .NET runtime's GC figures at the start of the window, or null.</param>
    public static Verdict Classify(ProcessSnapshot earliest, ProcessSnapshot latest, SampleWindow window, WindowGrowth growth,
        ProcEnviron? environment, AllocatorStatistics? latestStatistics = null, AllocatorStatistics? earliestStatistics = null,
        ManagedHeapFigures? latestManaged = null, ManagedHeapFigures? earliestManaged = null)
    {
        ClassifierInput input = ClassifierInput.From(latest, window, growth) with
        {
            EarliestLayout = earliest.Layout,
            LatestStatistics = latestStatistics,
            EarliestStatistics = earliestStatistics,
            Managed = latestManaged,
            EarliestManaged = earliestManaged,
        };
        if (environment is not null)
        {
            input = input.WithAllocatorParameters(environment, Environment.ProcessorCount);
        }

        return Classifier.Classify(input);
    }

    public static VerdictReport Build(Verdict v)
    {
        var recommendations = new List<RecommendationReport>(v.Recommendations.Count);
        foreach (RetentionRemedy r in v.Recommendations)
        {
            recommendations.Add(new RecommendationReport { Action = r.Action, ExpectedEffect = r.ExpectedEffect, Live = r.Live });
        }

        return new VerdictReport
        {
            Kind = v.KindName,
            Mechanism = v.MechanismName,
            Confidence = Math.Round(v.Confidence, 2),
            Summary = v.Summary,
            Evidence = v.Evidence,
            Recommendations = recommendations,
            WhatWouldSettleIt = v.WhatWouldSettleIt,
            Introspected = v.Introspected,
        };
    }

    /// <summary>
    /// Seconds to the cgroup's limit (usage counts every member; inactive file pages are reclaimable), or to the host's
    /// MemTotal when the cgroup has none, at the process's RSS trend.
    /// </summary>
    public static ForecastReport BuildForecast(ProcessSnapshot latest, WindowGrowth growth, Meminfo? meminfo, PressureStall? hostPressure)
    {
        ForecastInput input;
        ulong? limit = latest.Cgroup?.EffectiveLimitBytes ?? latest.Cgroup?.LimitBytes;

        // cgroup v1 reports "no limit" as a huge page-aligned number: a limit above the host's memory is none.
        if (latest.Cgroup is { UsageBytes: { } usage } cg && limit is { } l && (meminfo is null || l < meminfo.MemTotalBytes))
        {
            input = new ForecastInput
            {
                LimitBytes = l,
                UsageBytes = usage,
                ReclaimableBytes = cg.Stat?.InactiveFileBytes ?? 0,
                ProcessTrend = growth.Rss,
                RecentProcessTrend = growth.RecentRss,
                Pressure = Averages(cg.Pressure),
                Scope = LimitScope.Cgroup,
            };
        }
        else
        {
            double total = meminfo?.MemTotalBytes ?? 0;
            input = new ForecastInput
            {
                LimitBytes = total,
                UsageBytes = meminfo?.MemAvailableBytes is { } available ? total - available : 0,
                ProcessTrend = growth.Rss,
                RecentProcessTrend = growth.RecentRss,
                Pressure = Averages(hostPressure),
                Scope = LimitScope.Host,
            };
        }

        ForecastResult r = Forecast.ToLimit(input);
        return new ForecastReport
        {
            Scope = r.Scope == LimitScope.Host ? "host" : "cgroup",
            LimitBytes = r.LimitBytes,
            SecondsToLimit = r.SecondsToLimit,
            EarliestSeconds = r.EarliestSeconds,
            LatestSeconds = r.LatestSeconds,
            Confidence = r.Confidence switch
            {
                ForecastConfidence.Low => "low",
                ForecastConfidence.Medium => "medium",
                ForecastConfidence.High => "high",
                _ => "none",
            },
            Outcome = r.Outcome switch
            {
                ForecastOutcome.Forecast => "forecast",
                ForecastOutcome.AtLimit => "at-limit",
                ForecastOutcome.NoLimit => "no-limit",
                ForecastOutcome.WindowTooShort => "window-too-short",
                ForecastOutcome.NotGrowing => "not-growing",
                ForecastOutcome.TrendUncertain => "trend-uncertain",
                ForecastOutcome.GrowthStopped => "growth-stopped",
                ForecastOutcome.BelowUtilisationFloor => "below-utilisation-floor",
                _ => r.Outcome.ToString(),
            },
            Reason = r.Reason,
        };
    }

    private static PressureAverages? Averages(PressureStall? p) =>
        p is null ? null : new PressureAverages(p.Some.Avg10, p.Some.Avg60, p.Full?.Avg10 ?? 0, p.Full?.Avg60 ?? 0);
}
