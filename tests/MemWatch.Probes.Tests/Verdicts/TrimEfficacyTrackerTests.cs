using MemWatch.Probes.Analysis;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Probes.Tests.Verdicts;

public sealed class TrimEfficacyTrackerTests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void Result_RssClimbsBack_FractionAndTimeToHalf()
    {
        var tracker = new TrimEfficacyTracker(Sample(0, 300 * MiB, 1000), Sample(1000, 100 * MiB, 1000));
        tracker.Observe(Sample(31_000, 150 * MiB, 13_800));
        tracker.Observe(Sample(61_000, 210 * MiB, 29_000));
        tracker.Observe(Sample(121_000, 250 * MiB, 39_000));

        TrimEfficacy r = tracker.Result;

        Assert.Equal(200 * MiB, r.ReleasedBytes);
        Assert.Equal(150 * MiB, r.RefaultedBytes);
        Assert.Equal(0.75, r.RefaultedFraction, 3);
        Assert.Equal(60, r.SecondsToHalfRefaulted);
        Assert.Equal(38_000UL, r.MinorFaultsSince);
        Assert.Equal(120, r.ObservedSeconds);
        Assert.True(r.IsRefaulted(0.5, 16 * MiB));
    }

    [Fact]
    public void Result_RssStaysDown_NotRefaulted()
    {
        var tracker = new TrimEfficacyTracker(Sample(0, 300 * MiB, 0), Sample(1000, 100 * MiB, 0));
        tracker.Observe(Sample(301_000, 104 * MiB, 1024));

        TrimEfficacy r = tracker.Result;

        Assert.Equal(4 * MiB, r.RefaultedBytes);
        Assert.Null(r.SecondsToHalfRefaulted);
        Assert.False(r.IsRefaulted(0.5, 16 * MiB));
    }

    [Fact]
    public void Observe_PidReusedOrOutOfOrder_Ignored()
    {
        var tracker = new TrimEfficacyTracker(Sample(0, 300 * MiB, 0), Sample(1000, 100 * MiB, 0));
        tracker.Observe(Sample(500, 300 * MiB, 0));
        tracker.Observe(Sample(5000, 300 * MiB, 0, start: 77));

        Assert.True(tracker.ProcessReplaced);
        Assert.Equal(0UL, tracker.Result.RefaultedBytes);
        Assert.Throws<ArgumentException>(() => new TrimEfficacyTracker(Sample(0, 1, 0), Sample(1, 1, 0, start: 2)));
    }

    [Fact]
    public void Result_NothingReleased_ZeroFraction()
    {
        var tracker = new TrimEfficacyTracker(Sample(0, 100 * MiB, 0), Sample(1000, 101 * MiB, 0));
        tracker.Observe(Sample(2000, 120 * MiB, 0));

        Assert.Equal(0UL, tracker.Result.ReleasedBytes);
        Assert.Equal(0, tracker.Result.RefaultedFraction);
    }

    private static MemorySample Sample(long ms, ulong rss, ulong minflt, ulong start = 1000) =>
        new(ms, start, rss, rss, 0, 0, 0, minflt, 0);
}
