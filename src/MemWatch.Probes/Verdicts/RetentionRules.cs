using MemWatch.Probes.Allocators;
using MemWatch.Probes.Allocators.Models;
using static MemWatch.Probes.Verdicts.VerdictText;

namespace MemWatch.Probes.Verdicts;

/// <summary>
/// An allocator-retention verdict: the mechanism holding the free memory (from the allocator's own counters when
/// introspected, else the one the passive rule saw) and the allocator model's remedies for it.
/// </summary>
internal static class RetentionRules
{
    public static Verdict Build(ClassifierInput input, ClassifierOptions o, AllocatorStatistics? stats, double confidence,
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
}
