using MemWatch.Daemon.Metrics;

namespace MemWatch.Daemon.Remediation;

/// <summary>What one trim (or, with <paramref name="Action"/> = Gc, one induced .NET GC) did: whether it ran, what the
/// allocator or runtime said, and RSS before and after. The audit sink receives both actions as this record.</summary>
/// <param name="Attempted">False when it never reached the target (busy, refused by ptrace).</param>
/// <param name="Busy">Another action on the same target was in progress.</param>
/// <param name="Outcome">The allocator's answer (released, nothing-released, requested, failed, not-supported) or the refusal reason.</param>
internal sealed record TrimOutcome(
    int Pid,
    string Comm,
    TrimTrigger Trigger,
    string Who,
    DateTimeOffset At,
    bool Attempted,
    bool Busy,
    RemediationResult Result,
    string Outcome,
    string Message,
    ulong? RssBeforeBytes,
    ulong? RssAfterBytes,
    ulong? ReleasableBeforeBytes,
    long PauseMicroseconds,
    RemediationAction Action = RemediationAction.Trim);
