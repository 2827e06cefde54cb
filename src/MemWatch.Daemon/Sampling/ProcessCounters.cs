namespace MemWatch.Daemon.Sampling;

/// <summary>The cheap per-tick readings of one target (status and stat), in bytes and counts.</summary>
internal readonly record struct ProcessCounters(
    long UnixMilliseconds,
    ulong RssBytes,
    ulong AnonBytes,
    ulong FileBytes,
    ulong ShmemBytes,
    ulong SwapBytes,
    ulong RssHighWaterBytes,
    ulong MinorFaults,
    ulong MajorFaults,
    int Threads);
