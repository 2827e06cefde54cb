namespace MemWatch.Daemon.History;

/// <summary>What one <see cref="HistoryRetention.Maintain"/> pass did, for logs and tests.</summary>
internal sealed record HistoryMaintenance
{
    /// <summary>Full-resolution rows folded into per-minute rows, and the per-minute rows written (or merged into a row
    /// already there, when a sample arrived late for a minute already folded).</summary>
    public long RowsToMinute { get; init; }

    public long MinuteRowsWritten { get; init; }

    /// <summary>Full-resolution or per-minute rows folded into hourly rows, and the hourly rows written.</summary>
    public long RowsToHour { get; init; }

    public long HourRowsWritten { get; init; }

    /// <summary>Sample rows and verdict changes deleted for being older than Keep.</summary>
    public long SamplesExpired { get; init; }

    public long VerdictChangesExpired { get; init; }

    /// <summary>Rows deleted, oldest first, to bring the file under MaxBytes.</summary>
    public long SamplesPrunedForSize { get; init; }

    public long VerdictChangesPrunedForSize { get; init; }

    public long AuditEntriesPrunedForSize { get; init; }

    /// <summary>Bytes of database pages in use before and after the pass.</summary>
    public long BytesBefore { get; init; }

    public long BytesAfter { get; init; }
}
