namespace MemWatch.Probes.Allocators;

/// <summary>
/// What a target's allocator reports about itself, asked through remote calls (<see cref="Source"/> is always
/// "injected"). Byte figures are null where that allocator does not say; <c>ReleasableBytes</c> is the allocator's own
/// figure (jemalloc, tcmalloc) or the <see cref="GlibcTrimModel"/> prediction (glibc). <c>Properties</c> holds the raw
/// figures by the allocator's own names (mallinfo2.*, stats.*, generic.*, tcmalloc.*). Pauses are those the target
/// thread saw across the <c>Calls</c> remote calls made.
/// </summary>
public sealed record AllocatorStatistics(
    string Allocator,
    ulong? InUseBytes,
    ulong? FreeBytes,
    ulong? ReleasableBytes,
    ulong? SystemBytes,
    int? Arenas,
    IReadOnlyList<ArenaStatistics> ArenaDetails,
    IReadOnlyDictionary<string, ulong> Properties,
    long PauseMicrosecondsMax,
    long PauseMicrosecondsTotal,
    int Calls,
    IReadOnlyList<string> Notes)
{
    public string Source => "injected";

    /// <summary>The glibc trim prediction behind <c>ReleasableBytes</c>; null for other allocators.</summary>
    public GlibcTrimEstimate? TrimEstimate { get; init; }

    /// <summary>The parsed malloc_info(3) snapshot (glibc only).</summary>
    public MallocInfoXml? MallocInfo { get; init; }
}
