namespace MemWatch.Daemon.History;

/// <summary>The analyzer's verdict on a process incarnation changed (e.g. stable to allocator-retention).</summary>
internal sealed record VerdictChange(
    int Pid,
    ulong StartTimeTicks,
    string Comm,
    DateTimeOffset At,
    string Kind,
    string? Mechanism,
    double Confidence,
    string Summary);
