namespace MemWatch.Daemon.Reports;

/// <summary>What <c>memwatch history PID</c> prints: one process incarnation's recent samples, verdict changes and audit entries.</summary>
internal sealed record HistoryReport
{
    public required int Pid { get; init; }

    /// <summary>starttime from /proc/PID/stat (clock ticks after boot): with the pid, which process this is.</summary>
    public required ulong StartTimeTicks { get; init; }

    public required string Command { get; init; }

    /// <summary>Samples are shown from this time on (now minus --since).</summary>
    public required DateTimeOffset Since { get; init; }

    /// <summary>The newest sample stored for this incarnation, even when older than <see cref="Since"/>.</summary>
    public required DateTimeOffset? LastSampleAt { get; init; }

    public required IReadOnlyList<HistorySampleReport> Samples { get; init; }

    public required IReadOnlyList<VerdictChangeReport> VerdictChanges { get; init; }

    public required IReadOnlyList<AuditEntryReport> Audit { get; init; }
}
