using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Runtimes;
using static MemWatch.Probes.Verdicts.VerdictText;

namespace MemWatch.Probes.Verdicts;

/// <summary>
/// Turns a window of samples (and, when available, the region model and the allocator's own figures) into a
/// <see cref="Verdict"/>. The rules and thresholds are in docs/verdicts.md; every threshold is a named
/// <see cref="ClassifierOptions"/> value.
/// </summary>
/// <remarks>
/// Runs per target per analyzer tick in the daemon: it reads the window in place and walks the arena list once;
/// it allocates the verdict, its few evidence lines and, for retention only, the model's remedy list.
/// </remarks>
public static class Classifier
{
    private const string SettleByIntrospection =
        "introspection (--introspect) would measure the allocator's in-use and free bytes: in-use rising means a leak, free rising with in-use flat means retention";

    public static Verdict Classify(ClassifierInput input, ClassifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= ClassifierOptions.Default;
        var f = new WindowFigures(input, options);
        Verdict verdict = ShapeRules.ThreadLeak(input, options, f.Span)
            ?? (f.Ongoing ? ClassifyGrowth(input, options, f) : ClassifyPlateau(input, options, f));
        return input.LastTrim is { } trim ? WithTrimEfficacy(verdict, trim, options) : verdict;
    }

    /// <summary>RSS is still growing: say which series carries the growth.</summary>
    private static Verdict ClassifyGrowth(ClassifierInput input, ClassifierOptions o, in WindowFigures f)
    {
        WindowGrowth g = input.Growth;
        double fileGrowth = Slope(g.File) * f.Span;
        double anonGrowth = Slope(g.Anon) * f.Span;
        string rssLine = Invariant($"RSS grew {Bytes(f.RssGrowth)} over {Duration(f.Span)} ({Rate(f.RssSlope)}, {Percent(g.Rss.SignAgreement)} of pairwise slopes agree), still growing in the newest half ({Rate(Slope(g.RecentRss))})");

        if (ShapeRules.SharedMemory(input, o, f.RssGrowth, rssLine) is { } shared)
        {
            return shared;
        }

        if (ShapeRules.BoundedCache(input, o, f.RssGrowth, f.RssLatest, rssLine) is { } cache)
        {
            return cache;
        }

        if (fileGrowth >= o.ExplainingShare * f.RssGrowth)
        {
            return new Verdict(VerdictKind.FileBackedGrowth, null, o.SeriesGrowthConfidence,
                Invariant($"Resident pages of mapped files grow at {Rate(Slope(g.File))}: {Percent(fileGrowth / f.RssGrowth)} of the RSS growth."),
                [rssLine, Invariant($"file-backed RSS grew {Bytes(fileGrowth)}, anonymous RSS {Bytes(anonGrowth)}"), FaultLine(g)],
                [
                    new("find which mapped files grow (inspect's file-data and file-code regions)", "clean file pages are reclaimed under memory pressure before an OOM kill; dirty or locked ones are not", false),
                    new("madvise(MADV_DONTNEED) or munmap ranges no longer read", "drops their pages from this process's RSS at once", false),
                ],
                null, input.LatestStatistics is not null);
        }

        if (input.Managed is { } m && input.EarliestManaged is { } m0)
        {
            double gc = (double)m.GcHeapBytes - m0.GcHeapBytes;
            if (gc >= o.ExplainingShare * f.RssGrowth)
            {
                // What was allocated since the last GC is garbage a full GC may free; the rest survived a collection.
                ulong? garbage = m.AllocatedSinceLastGcBytes;
                bool mostlyGarbage = garbage is { } g0 && g0 >= o.ExplainingShare * gc;
                string reclaim = garbage is { } g1
                    ? Invariant($"{Bytes(g1)} was allocated since the last GC: {(mostlyGarbage ? "a full GC would likely reclaim most of the growth" : "most of the growth survived a GC, so it is live")}")
                    : "whether a GC would reclaim it is unknown until the runtime's first GC";
                return new Verdict(VerdictKind.ManagedHeapGrowth, null, o.SeriesGrowthConfidence,
                    Invariant($"The .NET GC heap grows: {Bytes(gc)} of the {Bytes(f.RssGrowth)} RSS growth; {reclaim}."),
                    [rssLine, Invariant($"GC heap {Bytes(m0.GcHeapBytes)} -> {Bytes(m.GcHeapBytes)}, committed {(m.GcCommittedBytes is { } c ? Bytes(c) : "unknown (no GC yet)")}"), reclaim],
                    mostlyGarbage
                        ? [
                            new("an induced full GC (memwatch gc PID, or POST /api/targets/{pid}/gc)", "returns the garbage and, after it, committed-but-free memory; live objects stay", true),
                            new("DOTNET_GCgen0size or GCConserveMemory settings", "collect sooner, so less garbage is resident between GCs", false),
                        ]
                        : [
                            new("dotnet-gcdump collect, twice, and compare", "shows which types the growing heap keeps alive", false),
                            new("an induced full GC (memwatch gc PID)", "confirms it: live objects stay", true),
                        ],
                    garbage is null ? "the runtime's figures after its first GC would tell live objects from garbage" : null,
                    input.LatestStatistics is not null);
            }
        }

        // Without the runtime's figures, the region model's gc-heap mappings at both ends of the window show it.
        if (input.Managed is null && input.EarliestLayout is { } early && input.Layout is { } late)
        {
            double gcRss = (double)late[RegionKind.GcHeap].RssBytes - early[RegionKind.GcHeap].RssBytes;
            if (gcRss >= o.ExplainingShare * f.RssGrowth)
            {
                return new Verdict(VerdictKind.ManagedHeapGrowth, null, o.SeriesGrowthConfidence * 0.75,
                    Invariant($"The .NET GC heap's mappings grow: {Bytes(gcRss)} of the {Bytes(f.RssGrowth)} RSS growth."),
                    [rssLine, Invariant($"gc-heap region RSS {Bytes(early[RegionKind.GcHeap].RssBytes)} -> {Bytes(late[RegionKind.GcHeap].RssBytes)}")],
                    [new("dotnet-gcdump collect, twice, and compare", "shows which types the growing heap keeps alive", false)],
                    "the runtime's GC figures (heap size vs committed) would tell live objects from garbage not yet collected", input.LatestStatistics is not null);
            }
        }

        (double inUseSoFar, _) = input.LatestStatistics is null ? (double.NaN, double.NaN) : InUseAndFreeGrowth(input, f);
        if (RuntimeRules.Growth(input, o, f.Span, f.RssGrowth, rssLine, inUseSoFar) is { } runtime)
        {
            return runtime;
        }

        if (input.LatestStatistics is { } stats && InUseAndFreeGrowth(input, f) is var (inUseGrowth, freeGrowth) && !double.IsNaN(inUseGrowth))
        {
            string allocatorLine = Invariant($"{stats.Allocator} in-use {Signed(inUseGrowth)}, free {Signed(freeGrowth)} over the window; in use now {Bytes(stats.InUseBytes ?? 0)}, free {Bytes(stats.FreeBytes ?? 0)}");
            if (inUseGrowth >= o.ExplainingShare * f.RssGrowth)
            {
                return new Verdict(VerdictKind.Leak, null, o.IntrospectedLeakConfidence,
                    Invariant($"Memory in use by the application grows at {Rate(inUseGrowth / f.Span)}: a leak (or an unbounded cache)."),
                    [rssLine, allocatorLine, FaultLine(g)],
                    LeakRemedies(input.EffectiveAllocator),
                    null, true);
            }

            if (freeGrowth >= o.ExplainingShare * f.RssGrowth)
            {
                return Retention(input, o, stats, o.IntrospectedRetentionConfidence,
                    Invariant($"The allocator's free bytes grow with RSS while in-use stays flat: freed memory is kept ({Bytes(freeGrowth)} of {Bytes(f.RssGrowth)})."),
                    [rssLine, allocatorLine]);
            }

            if (input.Runtime == RuntimeKind.CPython && anonGrowth >= o.ExplainingShare * f.RssGrowth)
            {
                return RuntimeRules.PymallocGrowthUnmeasured(o, rssLine, allocatorLine, anonGrowth);
            }

            return new Verdict(VerdictKind.UnexplainedGrowth, null, o.SeriesGrowthConfidence,
                Invariant($"RSS grows {Bytes(f.RssGrowth)} but the allocator's in-use and free bytes do not: the memory comes from outside malloc (direct mmap, thread stacks, another allocator)."),
                [rssLine, allocatorLine, RegionLine(input)],
                [new("compare two inspect reports' regions (anon, stack, shmem)", "shows which kind of mapping grows", false)],
                null, true);
        }

        if (anonGrowth >= o.ExplainingShare * f.RssGrowth && g.Faults is { } faults && faults.MinorPerSecond >= o.MinLeakMinorFaultsPerSecond)
        {
            return new Verdict(VerdictKind.Leak, null, o.PassiveLeakConfidence,
                Invariant($"Anonymous memory and page faults rise with RSS ({Rate(Slope(g.Anon))}): most likely a leak; allocator retention that keeps growing looks the same without introspection."),
                [rssLine, Invariant($"anonymous RSS grew {Bytes(anonGrowth)} ({Percent(anonGrowth / f.RssGrowth)} of the growth)"), FaultLine(g)],
                LeakRemedies(input.EffectiveAllocator),
                SettleByIntrospection, false);
        }

        return new Verdict(VerdictKind.UnexplainedGrowth, null, o.SeriesGrowthConfidence * 0.75,
            Invariant($"RSS grows {Bytes(f.RssGrowth)} but neither anonymous memory with faults nor file pages account for it."),
            [rssLine, Invariant($"anonymous RSS {Signed(anonGrowth)}, file-backed {Signed(fileGrowth)}, shmem {Signed(ShmemGrowth(input.Window))}"), FaultLine(g)],
            [new("compare two inspect reports' regions (shmem, anon, stack)", "shows which kind of mapping grows", false)],
            input.LatestStatistics is null ? SettleByIntrospection : null, input.LatestStatistics is not null);
    }

    /// <summary>RSS is not growing now (flat, or at a plateau after a burst): retention or stable.</summary>
    private static Verdict ClassifyPlateau(ClassifierInput input, ClassifierOptions o, in WindowFigures f)
    {
        WindowGrowth g = input.Growth;
        double anon = f.AnonLatest;
        string levelLine = f.Stepped
            ? Invariant($"RSS rose {Bytes(f.Step)} in a burst and stays at {Bytes(f.RssLatest)}, {Percent(f.RssLatest / Math.Max(1, g.RssHighWaterBytes))} of its high-water mark {Bytes(g.RssHighWaterBytes)}")
            : Invariant($"RSS flat at {Bytes(f.RssLatest)} over {Duration(f.Span)} ({Rate(f.RssSlope)}); high-water mark {Bytes(g.RssHighWaterBytes)}");
        string quietLine = g.RecentFaults is { } rf
            ? Invariant($"{rf.MinorPerSecond:0.#} minor faults/s in the newest {Duration(rf.Seconds)}: freed pages are being reused, not returned and re-faulted")
            : "no fault rates (fewer than two samples)";

        if (RuntimeRules.Plateau(input, o, anon, levelLine) is { } runtime)
        {
            return runtime;
        }

        if (input.LatestStatistics is { } stats && stats.FreeBytes is { } free)
        {
            // glibc counts pages an earlier trim returned as free: only what anonymous RSS can hold beyond the
            // in-use bytes is resident.
            double inUse = stats.InUseBytes ?? 0;
            double retained = Math.Min(free, Math.Max(0, anon - inUse));
            string allocatorLine = Invariant($"{stats.Allocator}: {Bytes(free)} free, of which at most {Bytes(retained)} resident ({Percent(retained / Math.Max(1, anon))} of anonymous RSS {Bytes(anon)}); {Bytes(inUse)} in use{InUseTrend(input, f)}");
            if (retained >= o.MinRetainedBytes && retained >= o.RetainedShareOfAnon * anon)
            {
                return Retention(input, o, stats, o.IntrospectedRetentionConfidence,
                    Invariant($"The allocator holds {Bytes(retained)} of freed memory resident, {Percent(retained / Math.Max(1, anon))} of anonymous RSS, while in-use is flat: allocator retention, not a leak."),
                    [allocatorLine, levelLine, quietLine]);
            }

            return new Verdict(VerdictKind.Stable, null, o.IntrospectedStableConfidence,
                Invariant($"No significant growth, and the allocator holds little free memory resident ({Bytes(retained)})."),
                [levelLine, allocatorLine],
                [], null, true);
        }

        if (ArenaSignal(input, o, anon) is { } arenaLine)
        {
            return Retention(input, o, null, o.PassiveRetentionConfidence,
                Invariant($"{input.Layout!.ArenaCount} glibc arenas for {input.Threads} threads hold much of the memory: arenas left by finished threads keep their free memory."),
                [arenaLine, levelLine], RetentionMechanismKind.ArenaProliferation);
        }

        if (f.Stepped && f.RssLatest >= o.HighWaterFraction * g.RssHighWaterBytes && f.Quiet)
        {
            RetentionMechanismKind? mechanism = null;
            var evidence = new List<string>(3) { levelLine, quietLine };
            if (MmapShiftLine(input, o) is { } shift)
            {
                mechanism = RetentionMechanismKind.MmapThresholdRaised;
                evidence.Add(shift);
            }

            return Retention(input, o, null, o.PassiveRetentionConfidence,
                "RSS sits at its high-water mark after a burst, with no new faults: typical of allocator retention; a one-off load of live data looks the same.",
                evidence, mechanism);
        }

        return new Verdict(VerdictKind.Stable, null, o.StableConfidence,
            Invariant($"No significant growth over {Duration(f.Span)}."),
            [levelLine, quietLine],
            [],
            f.RssLatest >= o.HighWaterFraction * g.RssHighWaterBytes ? "introspection (--introspect) would tell whether memory at the high-water mark is live data or freed memory the allocator keeps" : null,
            false);
    }

    private static Verdict Retention(ClassifierInput input, ClassifierOptions o, AllocatorStatistics? stats, double confidence,
        string summary, List<string> evidence, RetentionMechanismKind? passiveMechanism = null)
    {
        RetentionMechanismKind? mechanism = passiveMechanism;
        if (stats is not null)
        {
            (mechanism, string? line) = MechanismFromStatistics(input, o, stats);
            if (line is not null)
            {
                evidence.Add(line);
            }
        }

        if (ShapeRules.HugePageLine(input, o, input.Window.Count > 0 ? input.Window.Newest.AnonBytes : 0) is { } hugePages)
        {
            evidence.Add(hugePages);
            mechanism ??= RetentionMechanismKind.TransparentHugePages;
        }

        IReadOnlyList<RetentionMechanism> model = Mechanisms(input);
        var remedies = new List<RetentionRemedy>();
        foreach (RetentionMechanism m in model)
        {
            if (mechanism is { } k && m.Kind == k)
            {
                remedies.AddRange(m.Remedies);
            }
            else if (mechanism is null && remedies.Count == 0 && m.Remedies.FirstOrDefault(r => r.Live) is { } live)
            {
                // Mechanism unknown: only the allocator's general release call, without a mechanism's promise.
                remedies.Add(live with { ExpectedEffect = "returns the free pages the allocator holds, if retention it is; how much depends on the mechanism, which introspection would name" });
            }
        }

        string? settle = stats is null
            ? (mechanism is null ? SettleByIntrospection : "introspection (--introspect) would measure the free bytes this mechanism holds")
            : null;
        return new Verdict(VerdictKind.AllocatorRetention, mechanism, confidence, summary, evidence, remedies, settle, stats is not null);
    }

    /// <summary>The mechanism holding most of the allocator's free bytes, from its own counters.</summary>
    private static (RetentionMechanismKind? Kind, string? Evidence) MechanismFromStatistics(ClassifierInput input, ClassifierOptions o, AllocatorStatistics s)
    {
        double free = s.FreeBytes ?? 0;
        switch (input.EffectiveAllocator)
        {
            case AllocatorKind.Glibc when s.ArenaDetails.Count > 0:
            {
                ulong fast = 0, bins = 0, top = 0, nonMain = 0;
                int nonMainArenas = 0;
                foreach (ArenaStatistics a in s.ArenaDetails)
                {
                    fast += a.FastbinFreeBytes;
                    bins += a.BinFreeBytes;
                    top += a.TopBytes;
                    if (a.Number != 0)
                    {
                        nonMainArenas++;
                        nonMain += a.FastbinFreeBytes + a.BinFreeBytes + a.TopBytes;
                    }
                }

                // mallinfo2 is read before malloc_info, whose own large request consolidates the borrowed thread's
                // fastbins: fsmblks is the fastbin figure as the application left it.
                if (s.Properties.TryGetValue("mallinfo2.fsmblks", out ulong fsmblks))
                {
                    fast = Math.Max(fast, fsmblks);
                }

                string split = Invariant($"free split: fastbins {Bytes(fast)}, bins {Bytes(bins)}, tops {Bytes(top)}; {Bytes(nonMain)} in {nonMainArenas} non-main arenas");
                double hblkDrop = input.EarliestStatistics is { } e && e.Properties.TryGetValue("mallinfo2.hblkhd", out ulong h0)
                    && s.Properties.TryGetValue("mallinfo2.hblkhd", out ulong h1) ? (double)h0 - h1 : 0;
                if (hblkDrop > 0 && hblkDrop >= o.MmapShiftShare * free)
                {
                    return (RetentionMechanismKind.MmapThresholdRaised, Invariant($"mmapped chunks fell by {Bytes(hblkDrop)} (mallinfo2.hblkhd) while the heaps hold {Bytes(free)} free: blocks that were mmapped now come from the heap and stay; {split}"));
                }

                if (nonMainArenas >= 2 && nonMain >= o.DominantShare * free)
                {
                    return (RetentionMechanismKind.ArenaProliferation, Invariant($"{Bytes(nonMain)} free ({Percent(nonMain / Math.Max(1, free))}) sits in {nonMainArenas} non-main arenas; {split}"));
                }

                if (fast >= o.DominantShare * free)
                {
                    return (RetentionMechanismKind.FastbinTcacheHoard, Invariant($"{Bytes(fast)} free in fastbins ({Percent(fast / Math.Max(1, free))} of free; mallinfo2.fsmblks), never coalesced; {split}"));
                }

                // A pinned top leaves a few large free chunks below a live one; fragmentation leaves many pieces
                // between live chunks. Without the chunk counts, whether the pieces hold whole pages decides.
                ulong releasable = s.TrimEstimate?.ReleasableWithoutFastbinsBytes ?? 0;
                ulong chunks = BinChunks(s.MallocInfo);
                double average = chunks > 0 ? (double)bins / chunks : double.NaN;
                bool pinned = double.IsNaN(average) ? releasable >= o.PinnedReleasableShare * bins : average >= o.FragmentMaxAverageChunkBytes;
                string pieces = double.IsNaN(average) ? "" : Invariant($" in {chunks} chunks of {Bytes(average)} on average");
                return pinned
                    ? (RetentionMechanismKind.TopChunkPinned, Invariant($"{Bytes(bins)} free in bins{pieces} below the top chunk ({Bytes(top)}): live chunks above pin it; malloc_trim would return about {Bytes(releasable)}; {split}"))
                    : (RetentionMechanismKind.Fragmentation, Invariant($"{Bytes(bins)} free in bins{pieces}, split between live chunks; malloc_trim would return about {Bytes(releasable)} of it in whole pages; {split}"));
            }

            case AllocatorKind.Jemalloc:
            {
                double dirty = s.ReleasableBytes ?? 0;
                return dirty >= free - dirty
                    ? (RetentionMechanismKind.DirtyPages, Invariant($"{Bytes(dirty)} of unused dirty pages (stats.resident - stats.active - stats.metadata) of {Bytes(free)} free"))
                    : (RetentionMechanismKind.Fragmentation, Invariant($"{Bytes(free - dirty)} free inside active slabs (stats.active - stats.allocated), {Bytes(dirty)} dirty"));
            }

            case AllocatorKind.GperftoolsTcmalloc or AllocatorKind.GoogleTcmalloc:
            {
                double page = Get(s, "tcmalloc.pageheap_free_bytes");
                double thread = Get(s, "tcmalloc.thread_cache_free_bytes");
                double central = Get(s, "tcmalloc.central_cache_free_bytes") + Get(s, "tcmalloc.transfer_cache_free_bytes");
                string split = Invariant($"page heap {Bytes(page)}, thread caches {Bytes(thread)}, central and transfer caches {Bytes(central)}");
                if (page >= thread && page >= central)
                {
                    return (RetentionMechanismKind.DirtyPages, "free spans stay resident in the page heap: " + split);
                }

                return thread >= central
                    ? (RetentionMechanismKind.ThreadCache, "freed objects wait in thread caches: " + split)
                    : (RetentionMechanismKind.Fragmentation, "free objects in partly used spans (central caches): " + split);
            }

            default:
                return (null, null);
        }

        static double Get(AllocatorStatistics s, string key) => s.Properties.TryGetValue(key, out ulong v) ? v : 0;
    }

    /// <summary>Free chunks in regular and unsorted bins over every arena; 0 when malloc_info was not read.</summary>
    private static ulong BinChunks(MallocInfoXml? info)
    {
        ulong count = 0;
        if (info is null)
        {
            return 0;
        }

        foreach (MallocInfoHeap h in info.Heaps)
        {
            foreach (MallocInfoBin b in h.Bins)
            {
                if (b.Kind != MallocInfoBinKind.Fast)
                {
                    count += b.Count;
                }
            }
        }

        return count;
    }

    private static IReadOnlyList<RetentionMechanism> Mechanisms(ClassifierInput input) => input.EffectiveAllocator switch
    {
        AllocatorKind.Glibc => (input.Glibc ?? GlibcMallocParameters.Defaults(Environment.ProcessorCount)).RetentionMechanisms,
        AllocatorKind.Jemalloc => (input.Jemalloc ?? JemallocParameters.Defaults(Environment.ProcessorCount)).RetentionMechanisms,
        AllocatorKind.GperftoolsTcmalloc or AllocatorKind.GoogleTcmalloc => (input.Tcmalloc ?? TcmallocParameters.Defaults()).RetentionMechanisms,
        _ => [],
    };

    private static List<RetentionRemedy> LeakRemedies(AllocatorKind allocator) =>
    [
        new(allocator switch
            {
                AllocatorKind.Jemalloc => "MALLOC_CONF=prof:true,prof_leak:true and jeprof on two dumps",
                AllocatorKind.GperftoolsTcmalloc => "HEAPPROFILE=/tmp/heap and pprof --base on two profiles",
                _ => "heaptrack (or valgrind --tool=massif) on a reproduction",
            },
            "finds the allocation sites whose live bytes grow; trimming or another allocator cannot help a leak", false),
        new("restart the process before the forecast limit", "buys time only; the growth resumes", false),
    ];

    private static Verdict WithTrimEfficacy(Verdict v, TrimEfficacy trim, ClassifierOptions o)
    {
        if (!trim.IsRefaulted(o.TrimRefaultFraction, o.MinJudgedReleaseBytes))
        {
            return v;
        }

        string when = trim.SecondsToHalfRefaulted is { } s ? Duration(s) : Duration(trim.ObservedSeconds);
        var evidence = new List<string>(v.Evidence)
        {
            Invariant($"the last trim released {Bytes(trim.ReleasedBytes)}; {Percent(trim.RefaultedFraction)} came back within {Duration(trim.ObservedSeconds)} ({trim.MinorFaultsSince} minor faults), half of it within {when}"),
        };

        // For a leak or a working set a re-faulted trim is expected; the advice about settings is for retention.
        if (v.Kind != VerdictKind.AllocatorRetention)
        {
            return v with { Evidence = evidence };
        }

        // Re-faulted trims cost faults and gain nothing: restart-time settings go first, live calls last.
        var remedies = new List<RetentionRemedy>(v.Recommendations.Count + 1)
        {
            new("stop trimming this process periodically", Invariant($"trims of this process are re-faulted within {when}: fix the allocator settings instead"), false),
        };
        foreach (RetentionRemedy r in v.Recommendations)
        {
            if (!r.Live)
            {
                remedies.Add(r);
            }
        }

        foreach (RetentionRemedy r in v.Recommendations)
        {
            if (r.Live)
            {
                remedies.Add(r);
            }
        }

        return v with { Evidence = evidence, Recommendations = remedies };
    }

    private static string? ArenaSignal(ClassifierInput input, ClassifierOptions o, double anon)
    {
        if (input.Layout is not { } layout || input.EffectiveAllocator != AllocatorKind.Glibc || layout.ArenaCount < o.MinArenasForProliferation)
        {
            return null;
        }

        // Arenas beyond the threads that could use them: threads that allocated there have exited.
        int otherThreads = Math.Max(0, input.Threads - 1);
        ulong arenaRss = layout[RegionKind.Arena].RssBytes;
        if (input.Threads <= 0 || layout.ArenaCount <= otherThreads || arenaRss < o.MinRetainedBytes || arenaRss < o.RetainedShareOfAnon * anon)
        {
            return null;
        }

        return Invariant($"{layout.ArenaCount} non-main glibc arenas ({layout[RegionKind.Arena].Count} heap mappings) hold {Bytes(arenaRss)} resident, {Percent(arenaRss / Math.Max(1, anon))} of anonymous RSS, with {otherThreads} threads besides the main one");
    }

    private static string? MmapShiftLine(ClassifierInput input, ClassifierOptions o)
    {
        if (input.EarliestLayout is not { } early || input.Layout is not { } late || input.EffectiveAllocator != AllocatorKind.Glibc)
        {
            return null;
        }

        double mmapDrop = (double)early[RegionKind.MmapChunk].RssBytes - late[RegionKind.MmapChunk].RssBytes;
        double heapGrowth = (double)late[RegionKind.Heap].RssBytes + late[RegionKind.Arena].RssBytes
            - early[RegionKind.Heap].RssBytes - early[RegionKind.Arena].RssBytes;
        if (mmapDrop < o.MinGrowthBytes || heapGrowth < o.MmapShiftShare * mmapDrop)
        {
            return null;
        }

        return Invariant($"mmapped chunks fell by {Bytes(mmapDrop)} while heaps grew {Bytes(heapGrowth)}: glibc's dynamic mmap threshold now serves those blocks from the heap");
    }

    private static (double InUse, double Free) InUseAndFreeGrowth(ClassifierInput input, in WindowFigures f)
    {
        if (input.LatestStatistics is { InUseBytes: { } u1 } s1 && input.EarliestStatistics is { InUseBytes: { } u0 } s0)
        {
            return ((double)u1 - u0, (double)(s1.FreeBytes ?? 0) - (s0.FreeBytes ?? 0));
        }

        WindowGrowth g = input.Growth;
        return g.AllocatorInUse is { IsValid: true } inUse && g.AllocatorFree is { IsValid: true } freeTrend
            ? (inUse.SlopePerSecond * f.Span, freeTrend.SlopePerSecond * f.Span)
            : (double.NaN, double.NaN);
    }

    private static string InUseTrend(ClassifierInput input, in WindowFigures f)
    {
        (double inUse, _) = InUseAndFreeGrowth(input, f);
        return double.IsNaN(inUse) ? "" : Invariant($" ({Signed(inUse)} over {Duration(f.Span)})");
    }

    private static string FaultLine(WindowGrowth g) => g.Faults is { } r
        ? Invariant($"{r.MinorPerSecond:0.#} minor and {r.MajorPerSecond:0.#} major faults/s over the window")
        : "no fault rates (fewer than two samples)";

    private static string RegionLine(ClassifierInput input)
    {
        if (input.Layout is not { } l)
        {
            return "no region model";
        }

        return Invariant($"regions now: heap {Bytes(l[RegionKind.Heap].RssBytes)}, arenas {Bytes(l[RegionKind.Arena].RssBytes)}, mmap chunks {Bytes(l[RegionKind.MmapChunk].RssBytes)}, anon {Bytes(l[RegionKind.Anon].RssBytes)}, stacks {Bytes(l[RegionKind.Stack].RssBytes)}, shmem {Bytes(l[RegionKind.Shmem].RssBytes)}");
    }

    private static double ShmemGrowth(SampleWindow w) => w.Count < 2 ? 0 : (double)w.Newest.ShmemBytes - w.Oldest.ShmemBytes;

    private static string Signed(double bytes) => (bytes >= 0 ? "+" : "-") + Bytes(Math.Abs(bytes));

    private static double Slope(in TrendEstimate t) => t.IsValid ? t.SlopePerSecond : 0;

    /// <summary>The figures of the window every rule looks at, computed once without allocating.</summary>
    private readonly struct WindowFigures
    {
        public WindowFigures(ClassifierInput input, ClassifierOptions o)
        {
            WindowGrowth g = input.Growth;
            SampleWindow w = input.Window;
            Span = Math.Max(g.SpanSeconds, 0);
            RssSlope = Slope(g.Rss);
            RssGrowth = RssSlope * Span;
            RssLatest = g.RssLatestBytes;
            AnonLatest = w.Count > 0 ? w.Newest.AnonBytes : 0;
            double minGrowth = Math.Max(o.MinGrowthBytes, o.MinGrowthFractionOfRss * RssLatest);

            Ongoing = g.Rss.IsSignificantlyRising
                && RssGrowth >= minGrowth
                && g.RecentRss.IsValid
                && g.RecentRss.SlopePerSecond >= o.OngoingRecentSlopeFraction * RssSlope;

            // A burst: the newest level against the lowest level seen in the window.
            ulong low = ulong.MaxValue;
            for (int i = 0; i < w.Count; i++)
            {
                low = Math.Min(low, w[i].RssBytes);
            }

            Step = w.Count > 1 && RssLatest > low ? RssLatest - low : 0;
            Stepped = !Ongoing && Step >= minGrowth;
            Quiet = g.RecentFaults is { } rf && rf.MinorPerSecond <= o.QuietMinorFaultsPerSecond;
        }

        public double Span { get; }

        public double RssSlope { get; }

        public double RssGrowth { get; }

        public double RssLatest { get; }

        public double AnonLatest { get; }

        public bool Ongoing { get; }

        public double Step { get; }

        public bool Stepped { get; }

        public bool Quiet { get; }
    }
}
