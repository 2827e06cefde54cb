namespace MemWatch.Daemon.History;

/// <summary>One remediation (who asked, when, on which process, what happened to its RSS); stored append-only.</summary>
internal sealed record AuditEntry(
    DateTimeOffset At,
    string Actor,
    int Pid,
    ulong StartTimeTicks,
    string Comm,
    string Action,
    string Result,
    ulong? RssBeforeBytes,
    ulong? RssAfterBytes,
    long? ReleasedBytes,
    string Detail);
