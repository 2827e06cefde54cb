namespace MemWatch.Daemon.History;

/// <summary>
/// One stored reading of a process incarnation (pid + starttime from /proc/PID/stat). Allocator figures are NaN when
/// the process was not introspected. Rows older than full resolution are averages over <see cref="Resolution"/>;
/// their fault counters are the highest (latest) value in that interval.
/// </summary>
internal sealed record HistorySample(
    int Pid,
    ulong StartTimeTicks,
    string Comm,
    DateTimeOffset At,
    ulong RssBytes,
    ulong AnonBytes,
    ulong FileBytes,
    ulong ShmemBytes,
    ulong SwapBytes,
    ulong MinorFaults,
    ulong MajorFaults,
    double AllocatorInUseBytes,
    double AllocatorFreeBytes)
{
    /// <summary>Zero for a sample as taken; one minute or one hour for a downsampled row starting at <see cref="At"/>.</summary>
    public TimeSpan Resolution { get; init; }

    /// <summary>For a downsampled row, the highest RSS among the samples it replaced; null for a sample as taken.</summary>
    public ulong? PeakRssBytes { get; init; }
}
