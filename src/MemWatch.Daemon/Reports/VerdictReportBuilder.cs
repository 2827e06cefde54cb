using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Assessment;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Daemon.Reports;

/// <summary>Maps Probes' verdict and forecast (from <see cref="MemWatch.Probes.Assessment.ProcessAssessment"/>) to <see cref="VerdictReport"/> and <see cref="ForecastReport"/>.</summary>
internal static class VerdictReportBuilder
{
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

    public static ForecastReport BuildForecast(ForecastResult r, DeclaredLimitForecast? declared = null)
    {
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
            DeclaredLimit = declared is { Limit: var l } ? new DeclaredLimitReport(l.Bytes, l.Source, l.Bounds) : null,
            SecondsToDeclaredLimit = declared?.SecondsToLimit,
            FirstLimit = declared is null ? null : declared.ComesFirst ? "declared" : (r.Scope == LimitScope.Host ? "host" : "cgroup"),
        };
    }
}
