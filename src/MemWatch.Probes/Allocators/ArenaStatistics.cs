namespace MemWatch.Probes.Allocators;

/// <summary>
/// One glibc arena (malloc_info heap N; 0 is the main arena). Free bytes are split the way glibc keeps them:
/// fastbins, the regular and unsorted bins, and the top chunk. Tcache chunks are counted as in use by glibc and
/// cannot be seen from malloc_info, so <c>TcacheFreeBytes</c> is null.
/// <c>ReleasableBytes</c> is the trim model's prediction for this arena.
/// </summary>
public sealed record ArenaStatistics(
    int Number,
    ulong SystemBytes,
    ulong InUseBytes,
    ulong FastbinFreeBytes,
    ulong? TcacheFreeBytes,
    ulong BinFreeBytes,
    ulong TopBytes,
    ulong ReleasableBytes);
