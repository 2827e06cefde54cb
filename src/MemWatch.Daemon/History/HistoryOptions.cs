namespace MemWatch.Daemon.History;

/// <summary>
/// Retention of the history database: samples at full resolution for <see cref="FullResolutionFor"/>, then per-minute
/// averages (with the maximum RSS kept) up to <see cref="MinuteResolutionFor"/>, then hourly until <see cref="Keep"/>,
/// then deleted; the whole file bounded by <see cref="MaxBytes"/>.
/// </summary>
internal sealed record HistoryOptions
{
    public TimeSpan FullResolutionFor { get; init; } = TimeSpan.FromHours(1);

    public TimeSpan MinuteResolutionFor { get; init; } = TimeSpan.FromHours(24);

    public TimeSpan Keep { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Bound on the database file (pages in use); the write-ahead log is bounded separately by SQLite's
    /// auto-checkpoint and journal_size_limit.</summary>
    public long MaxBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Identifies this boot (<see cref="HistoryStore.ReadBootId"/>; null in tests: one unnamed boot); starttime
    /// is counted from boot, so the same pid and starttime after a reboot is another process.</summary>
    internal string? BootId { get; init; }

    /// <summary>The clock of sample-date checks, "recent" queries and moved-aside names (fake in tests).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (FullResolutionFor <= TimeSpan.Zero)
        {
            throw new ArgumentException($"FullResolutionFor must be positive, not {FullResolutionFor}");
        }

        if (MinuteResolutionFor < FullResolutionFor)
        {
            throw new ArgumentException($"MinuteResolutionFor ({MinuteResolutionFor}) must be at least FullResolutionFor ({FullResolutionFor})");
        }

        if (Keep < MinuteResolutionFor)
        {
            throw new ArgumentException($"Keep ({Keep}) must be at least MinuteResolutionFor ({MinuteResolutionFor})");
        }

        if (MaxBytes < 64 * 1024)
        {
            throw new ArgumentException($"MaxBytes must be at least 64 KiB, not {MaxBytes}");
        }
    }
}
