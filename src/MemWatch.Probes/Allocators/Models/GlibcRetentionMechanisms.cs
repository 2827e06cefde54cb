using System.Globalization;

namespace MemWatch.Probes.Allocators.Models;

/// <summary>ptmalloc's retention mechanisms under given parameters (seed articles 001–004).</summary>
internal static class GlibcRetentionMechanisms
{
    private const string Trim = "malloc_trim(0)";

    public static IReadOnlyList<RetentionMechanism> For(GlibcMallocParameters p)
    {
        var list = new List<RetentionMechanism>();
        string tcache = p.TcacheCount == 0
            ? "the tcache is off (tcache_count=0)"
            : Invariant($"each thread's tcache keeps up to {p.TcacheCount} chunks per size up to {p.TcacheMaxBytes} B, counted as in use by mallinfo2 and untouched by malloc_trim");
        if (p.FastbinLargestRequestBytes > 0 || p.TcacheCount > 0)
        {
            list.Add(new RetentionMechanism(
                RetentionMechanismKind.FastbinTcacheHoard,
                Invariant($"Freed requests of up to {p.FastbinLargestRequestBytes} B go to fastbins, which are not coalesced until a large request or a trim consolidates them; {tcache}. Many small blocks freed together stay resident (seed 001: 100-byte blocks never returned, 120 B being the threshold)."),
                "free bytes in fastbins (mallinfo2.fsmblks, malloc_info <total type=\"fast\">) plus tcache entries",
                [
                    new(ObservationSource.AllocatorCounters, "fastbin free bytes (fsmblks) a large share of anon RSS while in-use (uordblks) is flat or falling"),
                    new(ObservationSource.RegionModel, "[heap] and arena heaps stay at their high-water size after a burst of small frees"),
                    new(ObservationSource.FaultCounters, "no minor faults when the burst repeats: the same pages are reused"),
                ],
                [
                    new(Trim, "consolidates fastbins and madvises whole free pages in every arena; returns most fastbin bytes, not the tcache", true),
                    new("GLIBC_TUNABLES=glibc.malloc.mxfast=0", "turns fastbins off, so small frees coalesce and can reach the top chunk", false),
                    new("GLIBC_TUNABLES=glibc.malloc.tcache_count=0", "turns the tcache off; costs some malloc speed", false),
                ]));
        }

        list.Add(new RetentionMechanism(
            RetentionMechanismKind.TopChunkPinned,
            Invariant($"A heap shrinks only from its top and only when the free top chunk exceeds trim_threshold ({ByteText.Format(p.TrimThresholdBytes)}, up to {ByteText.Format(p.ReachableTrimThresholdBytes)}); one live chunk near the top keeps all free memory below it (seeds 003, 004). malloc_trim never shrinks a non-main arena's top."),
            "free bytes below the highest live chunk of each heap (malloc_info <total type=\"rest\"> minus the top chunk)",
            [
                new(ObservationSource.AllocatorCounters, "fordblks large and keepcost (main arena top) small; in-use flat"),
                new(ObservationSource.RegionModel, "[heap] end or an arena heap's rw part stays at its peak while RSS of the free part could be returned"),
                new(ObservationSource.FaultCounters, "RSS at its high-water mark with no new minor faults after the burst"),
            ],
            [
                new(Trim, "madvises whole free pages inside free chunks of every arena, below the pinned chunk; returns most of the free bytes (249 MB to 3.4 MB in a measured case); the address space stays", true),
                new("allocate long-lived blocks with mmap, or above the 32 MiB maximum mmap threshold", "keeps long-lived blocks out of the heaps, so tops can shrink", false),
            ]));

        ulong limit = p.ArenaLimit;
        string hugetlb = p.HugeTlb >= 2 ? " (with glibc.malloc.hugetlb >= 2 a heap reserves 4 huge pages instead)" : "";
        var arenaRemedies = new List<RetentionRemedy>();
        if (limit > 2)
        {
            arenaRemedies.Add(new(
                "MALLOC_ARENA_MAX=2 (or GLIBC_TUNABLES=glibc.malloc.arena_max=2)",
                Invariant($"caps arenas at 2; expected to return up to {limit - 2} x 64 MiB of reservations and the free memory held in those arenas"),
                false));
        }

        arenaRemedies.Add(new(Trim, "returns free pages inside every arena, but not arena tops; reservations stay", true));
        list.Add(new RetentionMechanism(
            RetentionMechanismKind.ArenaProliferation,
            Invariant($"Up to {limit} arenas ({(p.ArenaMax is { } max ? $"arena_max={max}" : $"8 x {p.OnlineCpus} online CPUs of the host, not the cgroup's quota")}), each non-main one a 64 MiB reservation{hugetlb}. Free memory of one arena is not reused by another, and a block freed by another thread returns to the arena it came from (seed 000)."),
            "free bytes per arena (malloc_info per heap) summed over non-main arenas",
            [
                new(ObservationSource.RegionModel, "the number of 64 MiB-aligned arena heaps (rw part + ---p part = 64 MiB) against the thread count"),
                new(ObservationSource.AllocatorCounters, "many heaps in malloc_info with large free totals while in-use is spread thinly"),
            ],
            arenaRemedies));

        if (p.DynamicThresholdEnabled)
        {
            list.Add(new RetentionMechanism(
                RetentionMechanismKind.MmapThresholdRaised,
                Invariant($"Freeing an mmapped block of up to 32 MiB raises mmap_threshold to its size (from {ByteText.Format(p.MmapThresholdBytes)}, at most 32 MiB) and trim_threshold to twice that (at most 64 MiB); later blocks of that size come from the heaps and stay there (seed 004: 2 MiB pool blocks). Setting any of trim_threshold, top_pad, mmap_threshold or mmap_max turns the rule off."),
                "heap bytes in free chunks of the raised size class",
                [
                    new(ObservationSource.RegionModel, "large anonymous mappings disappear while [heap] or arena heaps grow by the same block size"),
                    new(ObservationSource.AllocatorCounters, "mp_.mmap_threshold above 128 KiB; hblkhd falls while fordblks grows"),
                ],
                [
                    new("MALLOC_MMAP_THRESHOLD_=131072 (or MALLOC_TRIM_THRESHOLD_=131072)", "fixes the thresholds and turns the dynamic rule off; large blocks stay mmapped and return on free (seed 004 measured about 10% more CPU)", false),
                    new(Trim, "returns the free pages of the raised blocks; the threshold stays raised", true),
                ]));
        }

        list.Add(new RetentionMechanism(
            RetentionMechanismKind.Fragmentation,
            "Free chunks between live ones are too small or split for later requests (seed 004: a 64 KiB pool splitting 100 KiB chunks leaves 36 KiB pieces).",
            "free bytes in small and large bins that stay free across the window (malloc_info <size> entries)",
            [
                new(ObservationSource.AllocatorCounters, "many free chunks in the bins, free bytes high and stable while in-use is flat"),
                new(ObservationSource.RegionModel, "RSS stays well above in-use after a trim"),
            ],
            [
                new(Trim, "returns whole free pages inside free chunks; pieces smaller than a page stay", true),
                new("LD_PRELOAD=libjemalloc.so.2 (or another allocator)", "size-class slabs keep fragments within a size class; measure before switching", false),
            ]));

        return list;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
