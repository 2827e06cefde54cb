using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Regions;
using static MemWatch.Probes.Verdicts.VerdictText;

namespace MemWatch.Probes.Verdicts;

/// <summary>
/// The verdicts of a window whose RSS does not grow now, flat or at a plateau after a burst (docs/verdicts.md):
/// allocator retention, from the allocator's own figures or from the mapping layout, or stable.
/// </summary>
internal static class PlateauRules
{
    /// <summary>RSS is not growing now (flat, or at a plateau after a burst): retention or stable.</summary>
    public static Verdict Classify(ClassifierInput input, ClassifierOptions o, in WindowFigures f)
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
                return RetentionRules.Build(input, o, stats, o.IntrospectedRetentionConfidence,
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
            return RetentionRules.Build(input, o, null, o.PassiveRetentionConfidence,
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

            return RetentionRules.Build(input, o, null, o.PassiveRetentionConfidence,
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

    private static string InUseTrend(ClassifierInput input, in WindowFigures f)
    {
        (double inUse, _) = f.InUseAndFreeGrowth(input);
        return double.IsNaN(inUse) ? "" : Invariant($" ({Signed(inUse)} over {Duration(f.Span)})");
    }
}
