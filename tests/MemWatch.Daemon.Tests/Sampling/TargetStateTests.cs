using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Discovery;

namespace MemWatch.Daemon.Tests.Sampling;

/// <summary>What the classifier gets as "the allocator's figures at the start of the window" as introspections go by.</summary>
public sealed class TargetStateTests
{
    [Fact]
    public void EarliestStatisticsStayInsideTheWindowAndMoveUpWhenTheyAgeOut()
    {
        var target = new TargetState(1, 1, "t", new TargetRule(0, "r", new ProcessSelector(), true, false, new TrimPolicyOptions()),
            TargetIdentity.Unknown, new SampleWindow(64, TimeSpan.FromSeconds(60)));
        AllocatorStatistics a = Stats(1), b = Stats(2), c = Stats(3), d = Stats(4);

        Remember(target, a, 0);
        Assert.Same(a, target.EarliestStatistics);
        Assert.Same(a, target.LatestStatistics);

        Remember(target, b, 30_000);
        Remember(target, c, 55_000);
        Assert.Same(a, target.EarliestStatistics);
        Assert.Same(c, target.LatestStatistics);

        // a (at 0) is now older than the 60 s window: the previous latest (c, at 55 s) takes its place.
        Remember(target, d, 70_000);
        Assert.Same(c, target.EarliestStatistics);
        Assert.Equal(55_000, target.EarliestStatisticsUnixMilliseconds);
        Assert.Same(d, target.LatestStatistics);

        // After a long gap (introspection refused for a while) nothing in the window is older than the new figures.
        AllocatorStatistics e = Stats(5);
        Remember(target, e, 500_000);
        Assert.Same(e, target.EarliestStatistics);
        Assert.Same(e, target.LatestStatistics);
    }

    private static void Remember(TargetState target, AllocatorStatistics stats, long ms)
    {
        target.RememberStatistics(stats, ms);
        target.Allocator = new AllocatorReading(ms, stats.Allocator, stats.InUseBytes, stats.FreeBytes, stats.ReleasableBytes, 0);
    }

    private static AllocatorStatistics Stats(ulong inUse) =>
        new("glibc", inUse, 0, 0, 0, 1, [], new Dictionary<string, ulong>(), 0, 0, 1, []);
}
