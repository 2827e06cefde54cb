namespace MemWatch.Probes.Analysis;

/// <summary>
/// One reading of a process's memory, as the sampler takes it on each tick: VmRSS, RssAnon, RssFile, RssShmem and
/// VmSwap from <c>/proc/[pid]/status</c>, minflt, majflt and starttime from <c>/proc/[pid]/stat</c> (proc(5)), and,
/// when the process was introspected, the allocator's own in-use and free bytes.
/// </summary>
/// <param name="TimestampMilliseconds">When the reading was taken, in milliseconds on a clock that only moves forward
/// (the daemon uses Unix time).</param>
/// <param name="StartTimeTicks">Field 22 of <c>/proc/[pid]/stat</c>: when the process started, in clock ticks after boot.
/// A different value under the same PID means the PID was reused; 0 when unknown.</param>
/// <param name="RssBytes">VmRSS.</param>
/// <param name="AnonBytes">RssAnon.</param>
/// <param name="FileBytes">RssFile.</param>
/// <param name="ShmemBytes">RssShmem.</param>
/// <param name="SwapBytes">VmSwap.</param>
/// <param name="MinorFaults">Cumulative minor faults (minflt) since the process started.</param>
/// <param name="MajorFaults">Cumulative major faults (majflt) since the process started.</param>
/// <param name="AllocatorInUseBytes">Allocator in-use bytes, or <see cref="double.NaN"/> when not introspected.</param>
/// <param name="AllocatorFreeBytes">Allocator free bytes, or <see cref="double.NaN"/> when not introspected.</param>
/// <remarks>A plain struct with no references, so a full <see cref="SampleWindow"/> stores it without allocating.</remarks>
public readonly record struct MemorySample(
    long TimestampMilliseconds,
    ulong StartTimeTicks,
    ulong RssBytes,
    ulong AnonBytes,
    ulong FileBytes,
    ulong ShmemBytes,
    ulong SwapBytes,
    ulong MinorFaults,
    ulong MajorFaults,
    double AllocatorInUseBytes = double.NaN,
    double AllocatorFreeBytes = double.NaN)
{
    /// <summary>True when the allocator's counters were read for this sample.</summary>
    public bool HasAllocatorCounters => !double.IsNaN(AllocatorInUseBytes) || !double.IsNaN(AllocatorFreeBytes);

    /// <summary>The value of one series; NaN for allocator series that were not introspected.</summary>
    public double ValueOf(MemorySeries series) => series switch
    {
        MemorySeries.Rss => RssBytes,
        MemorySeries.Anon => AnonBytes,
        MemorySeries.File => FileBytes,
        MemorySeries.Shmem => ShmemBytes,
        MemorySeries.Swap => SwapBytes,
        MemorySeries.AllocatorInUse => AllocatorInUseBytes,
        MemorySeries.AllocatorFree => AllocatorFreeBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(series), series, null),
    };
}
