using MemWatch.Daemon.Reports;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Daemon.Tests.Reports;

/// <summary>The verdict and forecast parts of the inspect report, mapped from Probes' assessment.</summary>
public sealed class VerdictReportBuilderTests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void Build_Verdict_MapsNamesRoundsConfidenceAndKeepsAdviceOrder()
    {
        var v = new Verdict(VerdictKind.AllocatorRetention, RetentionMechanismKind.TopChunkPinned, 0.8512, "summary", ["a", "b"],
            [new RetentionRemedy("malloc_trim(0)", "returns it", true), new RetentionRemedy("restart", "later", false)], "settle", true);

        VerdictReport r = VerdictReportBuilder.Build(v);

        Assert.Equal("allocator-retention", r.Kind);
        Assert.Equal("top-chunk-pinned", r.Mechanism);
        Assert.Equal(0.85, r.Confidence);
        Assert.Equal(["a", "b"], r.Evidence);
        Assert.Equal(["malloc_trim(0)", "restart"], r.Recommendations.Select(x => x.Action));
        Assert.True(r.Recommendations[0].Live);
        Assert.True(r.Introspected);
    }

    [Fact]
    public void BuildForecast_MapsOutcomeScopeAndConfidenceNames()
    {
        var r = new ForecastResult(ForecastOutcome.AtLimit, ForecastConfidence.High, 0, 0, 0, 1024 * MiB, 0, 1, 1, true, LimitScope.Cgroup, "why");

        ForecastReport f = VerdictReportBuilder.BuildForecast(r);

        Assert.Equal("at-limit", f.Outcome);
        Assert.Equal("cgroup", f.Scope);
        Assert.Equal("high", f.Confidence);
        Assert.Equal("why", f.Reason);
    }
}
