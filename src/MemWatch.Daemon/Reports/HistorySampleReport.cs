namespace MemWatch.Daemon.Reports;

/// <summary>One stored sample; for a downsampled row, averages over <see cref="ResolutionSeconds"/> starting at <see cref="At"/>.</summary>
internal sealed record HistorySampleReport
{
    public required DateTimeOffset At { get; init; }

    /// <summary>0 for a sample as taken, 60 or 3600 for a downsampled row.</summary>
    public required int ResolutionSeconds { get; init; }

    public required ulong RssBytes { get; init; }

    /// <summary>Highest RSS in the interval (equal to <see cref="RssBytes"/> for a sample as taken).</summary>
    public required ulong PeakRssBytes { get; init; }

    public required ulong AnonBytes { get; init; }

    public required ulong FileBytes { get; init; }

    public required ulong ShmemBytes { get; init; }

    public required ulong SwapBytes { get; init; }

    public required ulong MinorFaults { get; init; }

    public required ulong MajorFaults { get; init; }

    /// <summary>Since the previous row; null for the first.</summary>
    public required double? MinorFaultsPerSecond { get; init; }

    public required double? MajorFaultsPerSecond { get; init; }

    /// <summary>Null when the process was not introspected.</summary>
    public required double? AllocatorInUseBytes { get; init; }

    public required double? AllocatorFreeBytes { get; init; }
}
