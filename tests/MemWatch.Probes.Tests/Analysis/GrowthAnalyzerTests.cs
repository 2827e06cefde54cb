using MemWatch.Probes.Analysis;
using static MemWatch.Probes.Tests.Analysis.SyntheticSeries;

namespace MemWatch.Probes.Tests.Analysis;

public sealed class GrowthAnalyzerTests
{
    private const ulong MiB = 1 << 20;

    [Fact]
    public void Analyze_LeakWithIntrospection_ReportsInUseGrowthAndFaults()
    {
        var window = new SampleWindow(120, TimeSpan.FromMinutes(10));
        for (int i = 0; i < 60; i++)
        {
            // 256 KiB/s leak: RSS and in-use rise together, free stays at 4 MiB, each new page is a minor fault.
            ulong rss = 100 * MiB + (ulong)i * 5 * 256 * 1024;
            window.Add(Sample(i * 5000L, rss, minflt: (ulong)i * 320, inUse: rss - 20.0 * MiB, free: 4.0 * MiB));
        }

        WindowGrowth growth = new GrowthAnalyzer().Analyze(window);

        Assert.Equal(256 * 1024, growth.Rss.SlopePerSecond, 6);
        Assert.Equal(192 * 1024, growth.Anon.SlopePerSecond, 6);
        Assert.Equal(256 * 1024, growth.AllocatorInUse!.Value.SlopePerSecond, 6);
        Assert.Equal(0, growth.AllocatorFree!.Value.SlopePerSecond, 6);
        Assert.Equal(64, growth.Faults!.Value.MinorPerSecond, 9);
        Assert.Equal(295, growth.SpanSeconds);
        Assert.Equal(growth.RssLatestBytes, growth.RssHighWaterBytes);
    }

    [Fact]
    public void Analyze_PassiveOnly_AllocatorTrendsAreNull()
    {
        var window = new SampleWindow(16, TimeSpan.FromMinutes(10));
        for (int i = 0; i < 10; i++)
        {
            window.Add(Sample(i * 1000L, 100 * MiB));
        }

        WindowGrowth growth = new GrowthAnalyzer().Analyze(window);

        Assert.Null(growth.AllocatorInUse);
        Assert.Null(growth.AllocatorFree);
        Assert.Equal(0, growth.Rss.SlopePerSecond);
    }

    [Fact]
    public void Analyze_WarmUpThenFlat_RecentTrendIsFlatWhileWholeWindowRises()
    {
        var window = new SampleWindow(200, TimeSpan.FromMinutes(30));
        for (int i = 0; i < 120; i++)
        {
            ulong rss = i < 40 ? 200 * MiB + (ulong)i * 10 * MiB : 600 * MiB;
            window.Add(Sample(i * 5000L, rss + (ulong)(i % 3) * 100_000, minflt: (ulong)Math.Min(i, 40) * 2560));
        }

        WindowGrowth growth = new GrowthAnalyzer().Analyze(window);

        Assert.True(growth.Rss.IsSignificantlyRising);
        Assert.False(growth.RecentRss.IsSignificantlyRising);
        Assert.Equal(0, growth.RecentFaults!.Value.MinorPerSecond);
        Assert.True(growth.Faults!.Value.MinorPerSecond > 0);
    }
}
