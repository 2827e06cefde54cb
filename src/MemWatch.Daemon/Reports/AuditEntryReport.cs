namespace MemWatch.Daemon.Reports;

/// <summary>A stored remediation from the audit log.</summary>
internal sealed record AuditEntryReport
{
    public required DateTimeOffset At { get; init; }

    public required string Actor { get; init; }

    public required string Action { get; init; }

    public required string Result { get; init; }

    public required ulong? RssBeforeBytes { get; init; }

    public required ulong? RssAfterBytes { get; init; }

    public required long? ReleasedBytes { get; init; }

    public required string Detail { get; init; }
}
