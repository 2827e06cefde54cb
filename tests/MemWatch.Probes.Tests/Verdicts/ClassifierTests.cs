using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Tests.Support;
using MemWatch.Probes.Verdicts;
using Xunit.Abstractions;

namespace MemWatch.Probes.Tests.Verdicts;

/// <summary>The classifier's rules on synthetic windows, synthetic allocator figures and a captured glibc layout.</summary>
public sealed class ClassifierTests(ITestOutputHelper output)
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void Classify_FlatWindow_Stable()
    {
        ClassifierInput input = Input(Window(40, t => 200 * MiB, faultsPerSecond: 0));

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.Stable, v.Kind);
        Assert.Null(v.Mechanism);
        Assert.Equal("stable", v.KindName);
        Assert.False(v.Introspected);
        Assert.Empty(v.Recommendations);
    }

    [Fact]
    public void Classify_AnonAndFaultsRisingWithRss_PassiveLeakSayingWhatWouldSettleIt()
    {
        ClassifierInput input = Input(Window(40, t => 100 * MiB + (ulong)(t * 2 * MiB), faultsPerSecond: 512));

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.Leak, v.Kind);
        Assert.Equal(ClassifierOptions.Default.PassiveLeakConfidence, v.Confidence);
        Assert.Contains("--introspect", v.WhatWouldSettleIt);
        Assert.Contains(v.Evidence, e => e.Contains("RSS grew", StringComparison.Ordinal));
        Assert.NotEmpty(v.Recommendations);
    }

    [Fact]
    public void Classify_GrowthBelowMinimum_StableEvenWhenSignificant()
    {
        // 100 KiB/s over 10 s is 1 MiB: a clean slope, but below MinGrowthBytes.
        ClassifierInput input = Input(Window(40, t => 100 * MiB + (ulong)(t * 100 * 1024), faultsPerSecond: 25));

        Assert.Equal(VerdictKind.Stable, Classifier.Classify(input).Kind);
    }

    [Fact]
    public void Classify_FileSeriesCarriesTheGrowth_FileBackedGrowth()
    {
        SampleWindow w = Window(40, t => 100 * MiB + (ulong)(t * 4 * MiB), faultsPerSecond: 1024, fileShare: t => 4 * MiB * t);

        Verdict v = Classifier.Classify(Input(w));

        Assert.Equal(VerdictKind.FileBackedGrowth, v.Kind);
    }

    [Fact]
    public void Classify_BurstThenQuietPlateauAtHighWater_PassiveRetentionWithoutMechanism()
    {
        ClassifierInput input = Input(Window(40, t => t < 2 ? 50 * MiB : 250 * MiB, faultsPerSecond: 0));

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.AllocatorRetention, v.Kind);
        Assert.Null(v.Mechanism);
        Assert.Equal(ClassifierOptions.Default.PassiveRetentionConfidence, v.Confidence);
        Assert.NotNull(v.WhatWouldSettleIt);
    }

    [Fact]
    public void Classify_BurstThenReturned_Stable()
    {
        // The 10 KiB twin of seed 001: up for a moment, then back down.
        ClassifierInput input = Input(Window(40, t => t is > 2 and < 3 ? 250 * MiB : 50 * MiB, faultsPerSecond: 0));

        Assert.Equal(VerdictKind.Stable, Classifier.Classify(input).Kind);
    }

    [Fact]
    public void Classify_GlibcFastbinsHoldTheFreeBytes_FastbinTcacheHoard()
    {
        AllocatorStatistics stats = Glibc(inUse: 10 * MiB, arenas: [Arena(0, fast: 0, bins: 5 * MiB, top: 200 * MiB)], fsmblks: 190 * MiB, releasableWithoutFastbins: 0);
        ClassifierInput input = Input(Window(40, t => t < 2 ? 50 * MiB : 250 * MiB, faultsPerSecond: 0)) with { LatestStatistics = stats, EarliestStatistics = stats };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.AllocatorRetention, v.Kind);
        Assert.Equal(RetentionMechanismKind.FastbinTcacheHoard, v.Mechanism);
        Assert.Equal("fastbin-tcache-hoard", v.MechanismName);
        Assert.True(v.Introspected);
        Assert.Null(v.WhatWouldSettleIt);
        Assert.Contains(v.Recommendations, r => r.Action == "malloc_trim(0)");
    }

    [Fact]
    public void Classify_GlibcNonMainArenasHoldTheFreeBytes_ArenaProliferation()
    {
        AllocatorStatistics stats = Glibc(inUse: 10 * MiB,
            arenas: [Arena(0, 0, 1 * MiB, 0), Arena(1, 0, 40 * MiB, 0), Arena(2, 0, 40 * MiB, 0), Arena(3, 0, 40 * MiB, 0)],
            fsmblks: 0, releasableWithoutFastbins: 120 * MiB);
        ClassifierInput input = Input(Window(40, t => 140 * MiB, faultsPerSecond: 0)) with { LatestStatistics = stats };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.AllocatorRetention, v.Kind);
        Assert.Equal(RetentionMechanismKind.ArenaProliferation, v.Mechanism);
        Assert.Contains(v.Recommendations, r => r.Action.StartsWith("MALLOC_ARENA_MAX=2", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(90, RetentionMechanismKind.TopChunkPinned)]
    [InlineData(5, RetentionMechanismKind.Fragmentation)]
    public void Classify_GlibcBinsHoldTheFreeBytes_PinnedTopOrFragmentationByReleasablePages(ulong releasableMiB, RetentionMechanismKind expected)
    {
        AllocatorStatistics stats = Glibc(inUse: 10 * MiB, arenas: [Arena(0, 0, 100 * MiB, 64 * 1024)], fsmblks: 0, releasableWithoutFastbins: releasableMiB * MiB);
        ClassifierInput input = Input(Window(40, t => 115 * MiB, faultsPerSecond: 0)) with { LatestStatistics = stats };

        Assert.Equal(expected, Classifier.Classify(input).Mechanism);
    }

    [Theory]
    [InlineData(1UL, RetentionMechanismKind.TopChunkPinned)]
    [InlineData(1000UL, RetentionMechanismKind.Fragmentation)]
    public void Classify_GlibcBinsWithMallocInfoCounts_AverageFreeChunkDecides(ulong chunks, RetentionMechanismKind expected)
    {
        // 100 MiB in one chunk below a live one, or in 1000 holes of 100 KiB (each holding whole pages a trim returns).
        var heap = new MallocInfoHeap(0, [new MallocInfoBin(0, 0, 100 * MiB, chunks, MallocInfoBinKind.Regular)], 0, 0, chunks + 1, 100 * MiB + 64 * 1024,
            111 * MiB, 111 * MiB, null, null, null);
        var info = new MallocInfoXml([heap], 0, 0, chunks + 1, 100 * MiB + 64 * 1024, 0, 0, 111 * MiB, 111 * MiB);
        AllocatorStatistics stats = Glibc(inUse: 10 * MiB, arenas: [Arena(0, 0, 100 * MiB, 64 * 1024)], fsmblks: 0, releasableWithoutFastbins: 95 * MiB) with
        {
            MallocInfo = info,
        };
        ClassifierInput input = Input(Window(40, t => 115 * MiB, faultsPerSecond: 0)) with { LatestStatistics = stats };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(expected, v.Mechanism);
        Assert.Contains(v.Evidence, e => e.Contains(chunks + " chunks of", StringComparison.Ordinal));
    }

    [Fact]
    public void Classify_GlibcMmappedChunksTurnedIntoHeapFree_MmapThresholdRaised()
    {
        AllocatorStatistics early = Glibc(inUse: 90 * MiB, arenas: [Arena(0, 0, 0, 64 * 1024)], fsmblks: 0, releasableWithoutFastbins: 0, hblkhd: 80 * MiB);
        AllocatorStatistics late = Glibc(inUse: 10 * MiB, arenas: [Arena(0, 0, 80 * MiB, 64 * 1024)], fsmblks: 0, releasableWithoutFastbins: 80 * MiB, hblkhd: 0);
        ClassifierInput input = Input(Window(40, t => t is > 2 and < 3 ? 10 * MiB : 95 * MiB, faultsPerSecond: 0)) with
        {
            LatestStatistics = late,
            EarliestStatistics = early,
        };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(RetentionMechanismKind.MmapThresholdRaised, v.Mechanism);
        Assert.Contains(v.Recommendations, r => r.Action.StartsWith("MALLOC_MMAP_THRESHOLD_", StringComparison.Ordinal));
    }

    [Fact]
    public void Classify_GrowingWithInUseRising_IntrospectedLeak()
    {
        SampleWindow w = Window(40, t => 100 * MiB + (ulong)(t * 4 * MiB), faultsPerSecond: 1024);
        ClassifierInput input = Input(w) with
        {
            EarliestStatistics = Glibc(inUse: 50 * MiB, arenas: [Arena(0, 0, 1 * MiB, 0)], fsmblks: 0, releasableWithoutFastbins: 0),
            LatestStatistics = Glibc(inUse: 88 * MiB, arenas: [Arena(0, 0, 1 * MiB, 0)], fsmblks: 0, releasableWithoutFastbins: 0),
        };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.Leak, v.Kind);
        Assert.Equal(ClassifierOptions.Default.IntrospectedLeakConfidence, v.Confidence);
        Assert.Null(v.WhatWouldSettleIt);
    }

    [Fact]
    public void Classify_GrowingWithFreeRisingAndInUseFlat_IntrospectedRetention()
    {
        SampleWindow w = Window(40, t => 100 * MiB + (ulong)(t * 4 * MiB), faultsPerSecond: 1024);
        ClassifierInput input = Input(w) with
        {
            EarliestStatistics = Glibc(inUse: 50 * MiB, arenas: [Arena(0, 0, 1 * MiB, 0)], fsmblks: 0, releasableWithoutFastbins: 0),
            LatestStatistics = Glibc(inUse: 50 * MiB, arenas: [Arena(0, 0, 40 * MiB, 0)], fsmblks: 0, releasableWithoutFastbins: 2 * MiB),
        };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.AllocatorRetention, v.Kind);
        Assert.Equal(RetentionMechanismKind.Fragmentation, v.Mechanism);
    }

    [Fact]
    public void Classify_GrowingWithAllocatorFiguresFlat_UnexplainedGrowth()
    {
        SampleWindow w = Window(40, t => 100 * MiB + (ulong)(t * 4 * MiB), faultsPerSecond: 1024);
        AllocatorStatistics same = Glibc(inUse: 50 * MiB, arenas: [Arena(0, 0, 1 * MiB, 0)], fsmblks: 0, releasableWithoutFastbins: 0);
        ClassifierInput input = Input(w) with { EarliestStatistics = same, LatestStatistics = same };

        Assert.Equal(VerdictKind.UnexplainedGrowth, Classifier.Classify(input).Kind);
    }

    [Fact]
    public void Classify_GcHeapCarriesTheGrowth_ManagedHeapGrowth()
    {
        SampleWindow w = Window(40, t => 100 * MiB + (ulong)(t * 4 * MiB), faultsPerSecond: 1024);
        ClassifierInput input = Input(w) with { EarliestManaged = Managed(20, 30, garbage: 1), Managed = Managed(60, 70, garbage: 2) };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.ManagedHeapGrowth, v.Kind);
        Assert.Contains("survived a GC, so it is live", v.Summary);
        Assert.Contains(v.Recommendations, r => r.Action.StartsWith("dotnet-gcdump", StringComparison.Ordinal));
    }

    [Fact]
    public void Classify_GcHeapGrowthIsGarbage_ManagedHeapGrowthAdvisesAGc()
    {
        SampleWindow w = Window(40, t => 100 * MiB + (ulong)(t * 4 * MiB), faultsPerSecond: 1024);
        ClassifierInput input = Input(w) with { EarliestManaged = Managed(20, 30, garbage: 1), Managed = Managed(60, 70, garbage: 39) };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.ManagedHeapGrowth, v.Kind);
        Assert.Contains("a full GC would likely reclaim most of the growth", v.Summary);
        Assert.True(v.Recommendations[0].Live, v.Recommendations[0].Action);
    }

    /// <summary>Runtime figures with <paramref name="garbage"/> MiB allocated since the last GC (the heap beyond the generation sizes).</summary>
    private static MemWatch.Probes.DotNet.ManagedHeapFigures Managed(ulong heapMiB, ulong committedMiB, ulong garbage)
    {
        return new MemWatch.Probes.DotNet.ManagedHeapFigures
        {
            GcHeapBytes = heapMiB * MiB,
            GcCommittedBytes = committedMiB * MiB,
            Gen0Bytes = 0,
            Gen1Bytes = 0,
            Gen2Bytes = (heapMiB - garbage) * MiB,
            LohBytes = 0,
            PohBytes = 0,
            IntervalSeconds = 1,
            TakenAt = DateTimeOffset.UnixEpoch,
        };
    }

    [Fact]
    public void Classify_GcHeapRegionCarriesTheGrowth_ManagedHeapGrowthWithoutRuntimeFigures()
    {
        SmapsReader reader = Smaps.Parse(SmapsFixtures.Read(SmapsFixtures.DotNet, "smaps"), "smaps");
        MemoryLayout early = new RegionClassifier().Classify(ref reader, memory: null, stackPointers: []);
        RegionTotals[] regions = [.. early.Regions];
        regions[(int)RegionKind.GcHeap].RssBytes += 35 * MiB;
        SampleWindow w = Window(40, t => 100 * MiB + (ulong)(t * 4 * MiB), faultsPerSecond: 1024);
        ClassifierInput input = Input(w) with { EarliestLayout = early, Layout = early with { Regions = regions } };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.ManagedHeapGrowth, v.Kind);
        Assert.Equal(VerdictKind.Leak, Classifier.Classify(input with { Layout = early }).Kind);
    }

    [Theory]
    [InlineData(90, RetentionMechanismKind.DirtyPages)]
    [InlineData(10, RetentionMechanismKind.Fragmentation)]
    public void Classify_JemallocFreeBytes_DirtyPagesOrFragmentation(ulong dirtyMiB, RetentionMechanismKind expected)
    {
        var stats = new AllocatorStatistics("jemalloc", 10 * MiB, 100 * MiB, dirtyMiB * MiB, 120 * MiB, 8, [],
            new Dictionary<string, ulong>(), 0, 0, 1, []);
        ClassifierInput input = Input(Window(40, t => 120 * MiB, faultsPerSecond: 0)) with { Allocator = AllocatorKind.Jemalloc, LatestStatistics = stats };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.AllocatorRetention, v.Kind);
        Assert.Equal(expected, v.Mechanism);
    }

    [Fact]
    public void Classify_TcmallocThreadCachesHoldTheFreeBytes_ThreadCache()
    {
        var properties = new Dictionary<string, ulong>
        {
            ["tcmalloc.pageheap_free_bytes"] = 5 * MiB,
            ["tcmalloc.thread_cache_free_bytes"] = 60 * MiB,
            ["tcmalloc.central_cache_free_bytes"] = 10 * MiB,
            ["tcmalloc.transfer_cache_free_bytes"] = 1 * MiB,
        };
        var stats = new AllocatorStatistics("tcmalloc", 10 * MiB, 76 * MiB, 5 * MiB, 90 * MiB, null, [], properties, 0, 0, 1, []);
        ClassifierInput input = Input(Window(40, t => 90 * MiB, faultsPerSecond: 0)) with { Allocator = AllocatorKind.GperftoolsTcmalloc, LatestStatistics = stats };

        Assert.Equal(RetentionMechanismKind.ThreadCache, Classifier.Classify(input).Mechanism);
    }

    [Fact]
    public void Classify_SmallFreeFigures_IntrospectedStable()
    {
        AllocatorStatistics stats = Glibc(inUse: 180 * MiB, arenas: [Arena(0, 0, 4 * MiB, 1 * MiB)], fsmblks: 0, releasableWithoutFastbins: 4 * MiB);
        ClassifierInput input = Input(Window(40, t => 200 * MiB, faultsPerSecond: 0)) with { LatestStatistics = stats };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.Stable, v.Kind);
        Assert.Equal(ClassifierOptions.Default.IntrospectedStableConfidence, v.Confidence);
    }

    [Fact]
    public void Classify_CapturedGlibcLayoutWithArenasOfFinishedThreads_PassiveArenaProliferation()
    {
        SmapsReader reader = Smaps.Parse(SmapsFixtures.Read(SmapsFixtures.Glibc, "smaps"), "smaps");
        MemoryLayout captured = new RegionClassifier().Classify(ref reader, memory: null, stackPointers: []);
        RegionTotals[] regions = [.. captured.Regions];
        regions[(int)RegionKind.Arena].RssBytes = 96 * MiB;
        regions[(int)RegionKind.Arena].Count = 16;
        MemoryLayout layout = captured with { Regions = regions, ArenaCount = 8, Allocator = captured.Allocator with { Kind = AllocatorKind.Glibc } };
        ClassifierInput input = Input(Window(40, t => 110 * MiB, faultsPerSecond: 0)) with { Layout = layout, Threads = 1 };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.AllocatorRetention, v.Kind);
        Assert.Equal(RetentionMechanismKind.ArenaProliferation, v.Mechanism);
        Assert.False(v.Introspected);

        // The same arenas with as many live threads are in use, not left over.
        Assert.Equal(VerdictKind.Stable, Classifier.Classify(input with { Threads = 9 }).Kind);
    }

    [Fact]
    public void Classify_RetentionWhoseLastTrimWasRefaulted_AdvisesSettingsOverTrims()
    {
        var trim = new TrimEfficacy(0, 100 * MiB, 90 * MiB, 0.9, 120, 23040, 600);
        AllocatorStatistics stats = Glibc(inUse: 10 * MiB, arenas: [Arena(0, 0, 5 * MiB, 0)], fsmblks: 190 * MiB, releasableWithoutFastbins: 0);
        ClassifierInput input = Input(Window(40, t => 250 * MiB, faultsPerSecond: 0)) with { LatestStatistics = stats, LastTrim = trim };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.AllocatorRetention, v.Kind);
        Assert.Equal("stop trimming this process periodically", v.Recommendations[0].Action);
        Assert.Contains("re-faulted within 2 min", v.Recommendations[0].ExpectedEffect, StringComparison.Ordinal);
        Assert.False(v.Recommendations[1].Live);
        Assert.True(v.Recommendations[^1].Live);
        Assert.Contains(v.Evidence, e => e.Contains("the last trim released 100 MiB", StringComparison.Ordinal));

        // A trim that stayed returned changes nothing.
        Verdict kept = Classifier.Classify(input with { LastTrim = trim with { RefaultedBytes = 5 * MiB, RefaultedFraction = 0.05 } });
        Assert.Equal("malloc_trim(0)", kept.Recommendations[0].Action);
    }

    [Fact]
    public void Classify_StableAndPassiveLeak_AllocateOnlyTheVerdictAndItsLines()
    {
        // Runs per target per analyzer tick: the window is read in place, only the verdict and its text are allocated.
        ClassifierInput stable = Input(Window(200, t => 200 * MiB, faultsPerSecond: 0));
        ClassifierInput leak = Input(Window(200, t => 100 * MiB + (ulong)(t * 2 * MiB), faultsPerSecond: 512));
        Classifier.Classify(stable);
        Classifier.Classify(leak);

        long before = GC.GetAllocatedBytesForCurrentThread();
        Classifier.Classify(stable);
        long stableBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        Classifier.Classify(leak);
        long leakBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        output.WriteLine($"stable verdict: {stableBytes} B allocated; passive leak verdict: {leakBytes} B");
        Assert.InRange(stableBytes, 1, 4096);
        Assert.InRange(leakBytes, 1, 8192);
    }

    [Fact]
    public void Classify_FreeBytesAlreadyTrimmed_StableNotRetention()
    {
        // After malloc_trim glibc still counts 150 MiB as free, but anonymous RSS (36 MiB) holds little beyond in-use.
        AllocatorStatistics stats = Glibc(inUse: 30 * MiB, arenas: [Arena(0, 0, 150 * MiB, 64 * 1024)], fsmblks: 0, releasableWithoutFastbins: 150 * MiB);
        ClassifierInput input = Input(Window(40, t => 40 * MiB, faultsPerSecond: 0)) with { LatestStatistics = stats };

        Assert.Equal(VerdictKind.Stable, Classifier.Classify(input).Kind);
    }

    [Fact]
    public void Classify_LeakWhoseLastTrimWasRefaulted_KeepsLeakAdviceAndAddsEvidence()
    {
        var trim = new TrimEfficacy(0, 100 * MiB, 90 * MiB, 0.9, 120, 23040, 600);
        ClassifierInput input = Input(Window(40, t => 100 * MiB + (ulong)(t * 2 * MiB), faultsPerSecond: 512)) with { LastTrim = trim };

        Verdict v = Classifier.Classify(input);

        Assert.Equal(VerdictKind.Leak, v.Kind);
        Assert.DoesNotContain(v.Recommendations, r => r.Action.StartsWith("stop trimming", StringComparison.Ordinal));
        Assert.Contains(v.Evidence, e => e.StartsWith("the last trim released", StringComparison.Ordinal));
    }

    [Fact]
    public void VerdictKindNames_RoundTrip()
    {
        for (int i = 0; i < VerdictKindNames.Count; i++)
        {
            Assert.True(VerdictKindNames.TryParse(((VerdictKind)i).ToName(), out VerdictKind k));
            Assert.Equal((VerdictKind)i, k);
        }

        Assert.False(VerdictKindNames.TryParse("Leak", out _));
    }

    /// <summary>Samples every 250 ms for <paramref name="n"/> samples; RSS from <paramref name="rss"/>(t), anon the rest of file.</summary>
    private static SampleWindow Window(int n, Func<double, ulong> rss, double faultsPerSecond, Func<double, double>? fileShare = null)
    {
        var w = new SampleWindow(256, TimeSpan.FromHours(1));
        for (int i = 0; i < n; i++)
        {
            double t = i * 0.25;
            ulong r = rss(t);
            ulong file = 4 * MiB + (ulong)(fileShare?.Invoke(t) ?? 0);
            w.Add(new MemorySample((long)(t * 1000), 1000, r, r - Math.Min(r, file), file, 0, 0, (ulong)(faultsPerSecond * t), 0));
        }

        return w;
    }

    private static ClassifierInput Input(SampleWindow w) => new()
    {
        Window = w,
        Growth = new GrowthAnalyzer().Analyze(w),
        Allocator = AllocatorKind.Glibc,
        Glibc = GlibcMallocParameters.Defaults(4),
    };

    private static ArenaStatistics Arena(int n, ulong fast, ulong bins, ulong top) => new(n, fast + bins + top + MiB, MiB, fast, null, bins, top, 0);

    private static AllocatorStatistics Glibc(ulong inUse, ArenaStatistics[] arenas, ulong fsmblks, ulong releasableWithoutFastbins, ulong hblkhd = 0)
    {
        ulong free = 0;
        foreach (ArenaStatistics a in arenas)
        {
            free += a.FastbinFreeBytes + a.BinFreeBytes + a.TopBytes;
        }

        var properties = new Dictionary<string, ulong> { ["mallinfo2.fsmblks"] = fsmblks, ["mallinfo2.hblkhd"] = hblkhd };
        var estimate = new GlibcTrimEstimate([new GlibcArenaTrimEstimate(0, releasableWithoutFastbins, 0, 0)], 4096, 0);
        return new AllocatorStatistics("glibc", inUse, Math.Max(free, fsmblks), releasableWithoutFastbins, inUse + free, arenas.Length, arenas,
            properties, 0, 0, 3, [])
        {
            TrimEstimate = estimate,
        };
    }
}
