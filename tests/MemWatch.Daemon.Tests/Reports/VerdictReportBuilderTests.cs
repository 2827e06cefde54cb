using System.Text;
using MemWatch.Daemon.Reports;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Snapshots;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Daemon.Tests.Reports;

/// <summary>The verdict and forecast parts of the inspect report, from probe results.</summary>
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
    public void BuildForecast_CgroupLimitBelowHostMemory_ForecastsToTheCgroupLimit()
    {
        ProcessSnapshot s = Self() with { Cgroup = Cgroup(limit: 1024 * MiB, usage: 800 * MiB) };

        ForecastReport f = VerdictReportBuilder.BuildForecast(s, Growing(2 * MiB), Meminfo(16384 * MiB, 8192 * MiB), null);

        Assert.Equal("cgroup", f.Scope);
        Assert.Equal(1024.0 * MiB, f.LimitBytes);
        Assert.Equal("forecast", f.Outcome);

        // (1024 - 800) MiB at 2 MiB/s.
        Assert.InRange(f.SecondsToLimit!.Value, 100, 124);
        Assert.NotEqual("none", f.Confidence);
    }

    [Fact]
    public void BuildForecast_CgroupV1UnlimitedSentinel_ForecastsToTheHost()
    {
        ProcessSnapshot s = Self() with { Cgroup = Cgroup(limit: 9223372036854771712, usage: 800 * MiB) };

        // 4 GiB of 16 GiB used: below the 50% floor, and no pressure given.
        ForecastReport f = VerdictReportBuilder.BuildForecast(s, Growing(2 * MiB), Meminfo(16384 * MiB, 12288 * MiB), null);

        Assert.Equal("host", f.Scope);
        Assert.Equal(16384.0 * MiB, f.LimitBytes);
        Assert.Equal("below-utilisation-floor", f.Outcome);
        Assert.Null(f.SecondsToLimit);
        Assert.Equal("none", f.Confidence);
    }

    private static ProcessSnapshot Self()
    {
        var reader = new ProcessSnapshotReader(ProcFileSystem.Default, null);
        Assert.True(reader.TryCapture(Environment.ProcessId, SnapshotDepth.Counters, out ProcessSnapshot? s));
        return s;
    }

    private static CgroupMemory Cgroup(ulong limit, ulong usage) => new()
    {
        Version = 1,
        Path = "/test",
        Directory = "/sys/fs/cgroup/memory/test",
        LimitBytes = limit,
        UsageBytes = usage,
    };

    private static Meminfo Meminfo(ulong total, ulong available) => MemWatch.Probes.ProcFs.Meminfo.Parse(
        Encoding.ASCII.GetBytes($"MemTotal: {total / 1024} kB\nMemFree: {available / 1024} kB\nMemAvailable: {available / 1024} kB\n"), "meminfo");

    /// <summary>A clean 60 s window growing at <paramref name="bytesPerSecond"/>.</summary>
    private static WindowGrowth Growing(ulong bytesPerSecond)
    {
        var w = new SampleWindow(128, TimeSpan.FromHours(1));
        for (int i = 0; i <= 60; i++)
        {
            ulong rss = 500 * MiB + (ulong)i * bytesPerSecond;
            w.Add(new MemorySample(i * 1000L, 1, rss, rss, 0, 0, 0, (ulong)i * 512, 0));
        }

        return new GrowthAnalyzer().Analyze(w);
    }
}
