namespace MemWatch.Probes.Allocators.Models;

/// <summary>jemalloc's retention mechanisms under given options.</summary>
internal static class JemallocRetentionMechanisms
{
    private const string Purge = "mallctl(\"arena.4096.purge\")";

    public static IReadOnlyList<RetentionMechanism> For(JemallocParameters p)
    {
        var list = new List<RetentionMechanism>();
        if (p.DirtyDecayMilliseconds != 0 || p.MuzzyDecayMilliseconds != 0)
        {
            string dirty = p.DirtyDecayMilliseconds < 0 ? "forever (dirty_decay_ms=-1)" : JemallocParameters.Invariant($"for up to {p.DirtyDecayMilliseconds} ms");
            string idle = p.BackgroundThread
                ? "background threads run the decay"
                : "without background_thread, decay only runs when the process calls into jemalloc, so an idle process keeps them";
            var remedies = new List<RetentionRemedy>
            {
                new(Purge, "purges all unused dirty and muzzy pages of every arena; returns stats.resident - stats.active - stats.metadata (resident 87 MB to 5.4 MB in a measured case)", true),
            };
            if (!p.BackgroundThread)
            {
                remedies.Add(new("MALLOC_CONF=background_thread:true", "decay proceeds while the process is idle", false));
            }

            remedies.Add(new("MALLOC_CONF=dirty_decay_ms:1000", "unused pages leave within about a second; more madvise calls", false));
            list.Add(new RetentionMechanism(
                RetentionMechanismKind.DirtyPages,
                $"Freed pages stay resident as dirty pages {dirty}, then muzzy for {p.MuzzyDecayMilliseconds} ms; {idle}.",
                "stats.resident - stats.active - stats.metadata (unused dirty pages)",
                [
                    new(ObservationSource.AllocatorCounters, "stats.resident well above stats.active while stats.allocated is flat"),
                    new(ObservationSource.RegionModel, "RSS stays after a burst of frees and falls in steps later, or never while idle"),
                ],
                remedies));
        }

        if (p.Tcache)
        {
            list.Add(new RetentionMechanism(
                RetentionMechanismKind.ThreadCache,
                JemallocParameters.Invariant($"Each thread caches freed objects of up to {p.TcacheMaxBytes} B; idle threads keep theirs until garbage collection of the cache runs on their next allocations."),
                "stats.active - stats.allocated not explained by slabs (tcache bytes are counted as active)",
                [new(ObservationSource.AllocatorCounters, "stats.active above stats.allocated, growing with the thread count")],
                [
                    new("mallctl(\"thread.tcache.flush\")", "flushes only the calling thread's cache: a remote call flushes one thread", true),
                    new("MALLOC_CONF=tcache:false", "no thread caches; costs allocation speed", false),
                ]));
        }

        list.Add(new RetentionMechanism(
            RetentionMechanismKind.ArenaProliferation,
            JemallocParameters.Invariant($"{p.EffectiveNarenas} arenas (4 x CPUs unless narenas is set), threads assigned round-robin; each arena keeps its own dirty pages."),
            "unused dirty pages summed over arenas (stats.arenas.<i>.pdirty x page size)",
            [new(ObservationSource.AllocatorCounters, "arenas.narenas high and dirty pages spread over many arenas")],
            [new("MALLOC_CONF=narenas:2", JemallocParameters.Invariant($"2 arenas instead of {p.EffectiveNarenas}: fewer places for dirty pages to wait; more contention"), false)]));

        list.Add(new RetentionMechanism(
            RetentionMechanismKind.Fragmentation,
            "Partly used slabs: freed objects inside a slab that still holds a live one keep the slab's pages.",
            "stats.active - stats.allocated",
            [new(ObservationSource.AllocatorCounters, "stats.active well above stats.allocated and unchanged by a purge")],
            [new(Purge, "does not help: the pages are active; only freeing the remaining objects or a restart returns them", true)]));
        return list;
    }
}
