namespace MemWatch.Probes.Allocators.Models;

/// <summary>gperftools tcmalloc's retention mechanisms under given settings (seed 000).</summary>
internal static class TcmallocRetentionMechanisms
{
    private const string Release = "MallocExtension_ReleaseFreeMemory()";

    public static IReadOnlyList<RetentionMechanism> For(TcmallocParameters p)
    {
        string cache = ByteText.Format(p.MaxTotalThreadCacheBytes);
        string release = p.AggressiveDecommit
            ? "aggressive decommit returns freed spans at once"
            : p.ReleaseRate <= 0
                ? "TCMALLOC_RELEASE_RATE=0: nothing is returned until ReleaseFreeMemory is called"
                : TcmallocParameters.Invariant($"spans are returned gradually at release rate {p.ReleaseRate:0.##}");
        return
        [
            new RetentionMechanism(
                RetentionMechanismKind.ThreadCache,
                $"Thread caches hold up to {cache} in total (at most 4 MiB per thread); ReleaseFreeMemory does not empty them.",
                "tcmalloc.current_total_thread_cache_bytes (plus central and transfer cache free bytes)",
                [new(ObservationSource.AllocatorCounters, "tcmalloc.thread_cache_free_bytes near the maximum with many threads")],
                [
                    new("MallocExtension_SetNumericProperty(\"tcmalloc.max_total_thread_cache_bytes\", N)", $"lowers the {cache} total at run time; caches shrink as threads allocate", true),
                    new("TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=8388608", $"8 MiB instead of {cache} of thread caches", false),
                ]),
            new RetentionMechanism(
                RetentionMechanismKind.DirtyPages,
                $"Free spans stay in the page heap, resident, until released; {release}.",
                "tcmalloc.pageheap_free_bytes",
                [
                    new(ObservationSource.AllocatorCounters, "tcmalloc.pageheap_free_bytes large while generic.current_allocated_bytes is flat"),
                    new(ObservationSource.RegionModel, "RSS at its high-water mark after frees"),
                ],
                [
                    new(Release, "madvises every free page-heap span; returns tcmalloc.pageheap_free_bytes (75.5 MB in a measured case); thread caches stay", true),
                    new("TCMALLOC_AGGRESSIVE_DECOMMIT=true", "returns spans as they are freed; more page faults", false),
                ]),
            new RetentionMechanism(
                RetentionMechanismKind.Fragmentation,
                "Spans with one live object stay assigned to their size class.",
                "tcmalloc.central_cache_free_bytes + tcmalloc.transfer_cache_free_bytes",
                [new(ObservationSource.AllocatorCounters, "central and transfer cache free bytes high and unchanged by ReleaseFreeMemory")],
                [new(Release, "does not help for partly used spans; only freeing their objects does", true)]),
        ];
    }
}
