using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Runtimes;
using static MemWatch.Probes.Verdicts.VerdictText;

namespace MemWatch.Probes.Verdicts;

/// <summary>
/// The verdicts of a window whose RSS still grows (docs/verdicts.md): file pages, the .NET GC heap, a language
/// runtime's heap, the allocator's in-use or free bytes, or anonymous memory with faults, whichever explains the growth.
/// </summary>
internal static class GrowthRules
{
    /// <summary>RSS is still growing: say which series carries the growth.</summary>
    public static Verdict Classify(ClassifierInput input, ClassifierOptions o, in WindowFigures f)
    {
        WindowGrowth g = input.Growth;
        double fileGrowth = WindowFigures.Slope(g.File) * f.Span;
        double anonGrowth = WindowFigures.Slope(g.Anon) * f.Span;
        string rssLine = Invariant($"RSS grew {Bytes(f.RssGrowth)} over {Duration(f.Span)} ({Rate(f.RssSlope)}, {Percent(g.Rss.SignAgreement)} of pairwise slopes agree), still growing in the newest half ({Rate(WindowFigures.Slope(g.RecentRss))})");

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
                Invariant($"Resident pages of mapped files grow at {Rate(WindowFigures.Slope(g.File))}: {Percent(fileGrowth / f.RssGrowth)} of the RSS growth."),
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

        (double inUseSoFar, _) = input.LatestStatistics is null ? (double.NaN, double.NaN) : f.InUseAndFreeGrowth(input);
        if (RuntimeRules.Growth(input, o, f.Span, f.RssGrowth, rssLine, inUseSoFar) is { } runtime)
        {
            return runtime;
        }

        if (input.LatestStatistics is { } stats && f.InUseAndFreeGrowth(input) is var (inUseGrowth, freeGrowth) && !double.IsNaN(inUseGrowth))
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
                return RetentionRules.Build(input, o, stats, o.IntrospectedRetentionConfidence,
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
                Invariant($"Anonymous memory and page faults rise with RSS ({Rate(WindowFigures.Slope(g.Anon))}): most likely a leak; allocator retention that keeps growing looks the same without introspection."),
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
}
