using MemWatch.Probes.Analysis;
using static MemWatch.Probes.Tests.Analysis.SyntheticSeries;

namespace MemWatch.Probes.Tests.Analysis;

public sealed class SampleWindowTests
{
    [Fact]
    public void Add_MoreThanCapacity_KeepsNewestSamplesOldestFirst()
    {
        var window = new SampleWindow(4, TimeSpan.FromHours(1));
        for (int i = 1; i <= 6; i++)
        {
            Assert.Equal(SampleAdmission.Appended, window.Add(Sample(i * 1000, (ulong)i)));
        }

        Assert.Equal(4, window.Count);
        Assert.Equal(3UL, window.Oldest.RssBytes);
        Assert.Equal(6UL, window.Newest.RssBytes);
        Assert.Equal(4UL, window[1].RssBytes);
        Assert.Equal(3, window.SpanSeconds);
        Assert.Throws<ArgumentOutOfRangeException>(() => window[4].RssBytes);
    }

    [Fact]
    public void Add_SamplesOlderThanMaxAge_AreEvicted()
    {
        var window = new SampleWindow(100, TimeSpan.FromSeconds(30));
        for (int i = 0; i <= 10; i++)
        {
            window.Add(Sample(i * 5_000, 100));
        }

        // Newest at 50 s: samples before 20 s are gone, 20..50 s (7 samples) remain.
        Assert.Equal(7, window.Count);
        Assert.Equal(20_000, window.Oldest.TimestampMilliseconds);
    }

    [Fact]
    public void Add_TimestampNotAfterNewest_IsDroppedAsOutOfOrder()
    {
        var window = new SampleWindow(8, TimeSpan.FromMinutes(5));
        window.Add(Sample(2000, 10));

        Assert.Equal(SampleAdmission.OutOfOrder, window.Add(Sample(2000, 20)));
        Assert.Equal(SampleAdmission.OutOfOrder, window.Add(Sample(1000, 30)));
        Assert.Equal(1, window.Count);
        Assert.Equal(10UL, window.Newest.RssBytes);
    }

    [Fact]
    public void HighWater_AfterBurstEvicted_KeepsPeakAndItsTime()
    {
        var window = new SampleWindow(3, TimeSpan.FromMinutes(5));
        window.Add(Sample(1000, 100));
        window.Add(Sample(2000, 900));
        window.Add(Sample(3000, 200));
        window.Add(Sample(4000, 200));
        window.Add(Sample(5000, 300));

        Assert.Equal(900UL, window.RssHighWaterBytes);
        Assert.Equal(2000, window.RssHighWaterTimestampMilliseconds);
        Assert.Equal(900UL * 3 / 4, window.AnonHighWaterBytes);
        Assert.DoesNotContain(900UL, Enumerable.Range(0, window.Count).Select(i => window[i].RssBytes));
    }

    [Fact]
    public void Add_StartTimeChanges_RestartsWindowAndHighWater()
    {
        var window = new SampleWindow(8, TimeSpan.FromMinutes(5));
        window.Add(Sample(1000, 900, minflt: 5000, start: 111));
        window.Add(Sample(2000, 950, minflt: 6000, start: 111));

        SampleAdmission admission = window.Add(Sample(3000, 50, minflt: 10, start: 222));

        Assert.Equal(SampleAdmission.ProcessReplaced, admission);
        Assert.Equal(1, window.Count);
        Assert.Equal(1, window.ProcessReplacements);
        Assert.Equal(50UL, window.RssHighWaterBytes);
        Assert.Null(window.ComputeFaultRates());
    }

    [Fact]
    public void ComputeFaultRates_PidReused_CountsOnlyTheNewProcess()
    {
        var window = new SampleWindow(16, TimeSpan.FromMinutes(5));
        window.Add(Sample(0, 1, minflt: 1_000_000, majflt: 50, start: 111));
        window.Add(Sample(5000, 1, minflt: 2_000_000, majflt: 60, start: 111));
        window.Add(Sample(10_000, 1, minflt: 100, majflt: 0, start: 999));
        window.Add(Sample(15_000, 1, minflt: 600, majflt: 5, start: 999));
        window.Add(Sample(20_000, 1, minflt: 1100, majflt: 10, start: 999));

        FaultRates rates = window.ComputeFaultRates()!.Value;

        Assert.Equal(100, rates.MinorPerSecond, 9);
        Assert.Equal(1, rates.MajorPerSecond, 9);
        Assert.Equal(10, rates.Seconds, 9);
        Assert.Equal(0, rates.CounterResets);
    }

    [Fact]
    public void ComputeFaultRates_CounterGoesBackwardsWithoutStartTime_SkipsThatInterval()
    {
        var window = new SampleWindow(16, TimeSpan.FromMinutes(5));
        window.Add(Sample(0, 1, minflt: 500, start: 0));
        window.Add(Sample(10_000, 1, minflt: 1500, start: 0));
        window.Add(Sample(20_000, 1, minflt: 20, start: 0));
        window.Add(Sample(30_000, 1, minflt: 520, start: 0));

        FaultRates rates = window.ComputeFaultRates()!.Value;

        Assert.Equal(1, rates.CounterResets);
        Assert.Equal(20, rates.Seconds, 9);
        Assert.Equal((1000 + 500) / 20.0, rates.MinorPerSecond, 9);
    }

    [Fact]
    public void ComputeFaultRates_LastSeconds_UsesOnlyRecentIntervals()
    {
        var window = new SampleWindow(16, TimeSpan.FromMinutes(5));
        window.Add(Sample(0, 1, minflt: 0));
        window.Add(Sample(10_000, 1, minflt: 10_000));
        window.Add(Sample(20_000, 1, minflt: 10_010));
        window.Add(Sample(30_000, 1, minflt: 10_020));

        FaultRates recent = window.ComputeFaultRates(lastSeconds: 10)!.Value;

        Assert.Equal(1, recent.MinorPerSecond, 9);
        Assert.Equal(10, recent.Seconds, 9);
    }

    [Fact]
    public void CopySeries_AllocatorNotIntrospectedEverywhere_LeavesOutNaN()
    {
        var window = new SampleWindow(8, TimeSpan.FromMinutes(5));
        window.Add(Sample(0, 1));
        window.Add(Sample(1000, 1, inUse: 10));
        window.Add(Sample(2000, 1));
        window.Add(Sample(3000, 1, inUse: 30));
        var t = new double[8];
        var v = new double[8];

        int n = window.CopySeries(MemorySeries.AllocatorInUse, t, v);

        Assert.Equal(2, n);
        Assert.Equal([1.0, 3.0], t[..2]);
        Assert.Equal([10.0, 30.0], v[..2]);
    }

    [Fact]
    public void Add_TenThousandSamplesIntoFullWindow_AllocatesNothing()
    {
        var window = new SampleWindow(360, TimeSpan.FromHours(1));
        for (int i = 0; i < 360; i++)
        {
            window.Add(Sample(i * 1000L, (ulong)i, minflt: (ulong)i));
        }

        var analyzer = new GrowthAnalyzer(initialPoints: 360);

        // One pass of exactly what is measured first: the JIT compiling a method (or a loop, on stack) on this thread
        // can allocate, and a test that runs first in its process would count that.
        Feed(window, 360, 5_360);
        analyzer.Trend(window, MemorySeries.Rss);
        window.ComputeFaultRates();

        long before = GC.GetAllocatedBytesForCurrentThread();
        Feed(window, 5_360, 10_360);
        TrendEstimate trend = analyzer.Trend(window, MemorySeries.Rss);
        FaultRates? rates = window.ComputeFaultRates();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(360, window.Count);
        Assert.Equal(10_359UL, window.RssHighWaterBytes);
        Assert.Equal(1, trend.SlopePerSecond, 9);
        Assert.Equal(1, rates!.Value.MinorPerSecond, 9);
    }

    private static void Feed(SampleWindow window, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            window.Add(new MemorySample(i * 1000L, 1000, (ulong)i, (ulong)i, 0, 0, 0, (ulong)i, 0, i, 0));
        }
    }

    [Fact]
    public void Add_KibSizes_StaysPackedAndReturnsEveryFieldExactly()
    {
        var window = new SampleWindow(8, TimeSpan.FromHours(1));
        var samples = new List<MemorySample>();
        for (int i = 0; i < 12; i++)
        {
            // Largest packable size (4 TiB - 1 KiB) and fault counters beyond 32 bits.
            var s = new MemorySample(
                1_700_000_000_000 + i * 5000L, 4242, (ulong)(i + 1) << 30, 0xFFFF_FFFFUL << 10, 4096UL * (ulong)i,
                1024, 0, 5_000_000_000UL + (ulong)i, (ulong)i);
            samples.Add(s);
            window.Add(s);
        }

        Assert.True(window.IsPacked);
        Assert.Equal(8, window.Count);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(samples[i + 4], window[i]);
        }
    }

    [Fact]
    public void Add_SizeNotWholeKib_WidensWithoutLosingEarlierSamples()
    {
        var window = new SampleWindow(4, TimeSpan.FromHours(1));
        window.Add(Sample(1000, 4096 * 10));
        window.Add(Sample(2000, 4096 * 11));
        Assert.True(window.IsPacked);

        window.Add(Sample(3000, 4096 * 12 + 1));
        Assert.False(window.IsPacked);
        Assert.Equal([4096UL * 10, 4096 * 11, 4096 * 12 + 1], Enumerable.Range(0, 3).Select(i => window[i].RssBytes));

        // Beyond 4 TiB does not fit 32-bit KiB either.
        var big = new SampleWindow(4, TimeSpan.FromHours(1));
        big.Add(Sample(1000, 4UL << 40));
        Assert.False(big.IsPacked);
        Assert.Equal(4UL << 40, big.Newest.RssBytes);
    }

    [Fact]
    public void Add_AllocatorCountersOnSomeSamples_KeptOnThoseOnlyWhilePacked()
    {
        var window = new SampleWindow(4, TimeSpan.FromHours(1));
        window.Add(Sample(1000, 4096));
        window.Add(Sample(2000, 8192) with { AllocatorInUseBytes = 123.5, AllocatorFreeBytes = 7 });
        window.Add(Sample(3000, 12288));
        window.Add(Sample(4000, 16384));
        window.Add(Sample(5000, 20480));   // evicts the first; the ring wraps

        Assert.True(window.IsPacked);
        Assert.Equal(123.5, window[0].AllocatorInUseBytes);
        Assert.Equal(7, window[0].AllocatorFreeBytes);
        Assert.All(Enumerable.Range(1, 3), i => Assert.False(window[i].HasAllocatorCounters));

        // The slot the allocator sample held is reused by a plain sample: no stale figures.
        window.Add(Sample(6000, 24576));
        window.Add(Sample(7000, 28672));
        Assert.All(Enumerable.Range(0, window.Count), i => Assert.False(window[i].HasAllocatorCounters));
    }

    [Fact]
    public void Construct_Packed_UsesAtMost48BytesPerSample()
    {
        // The daemon keeps 736 samples for each of hundreds of targets: the packed ring is the bulk of its heap.
        const int capacity = 736;
        GC.KeepAlive(new SampleWindow(capacity, TimeSpan.FromHours(1)));   // compiled before it is measured
        long before = GC.GetAllocatedBytesForCurrentThread();
        var window = new SampleWindow(capacity, TimeSpan.FromHours(1));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(window);
        Assert.InRange(allocated, capacity * 48, capacity * 48 + 512);
    }
}
