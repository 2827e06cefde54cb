using MemWatch.Daemon.Metrics;

namespace MemWatch.Daemon.Remediation;

/// <summary>What one trim did: whether it ran, what the allocator said, and RSS before and after.</summary>
/// <param name="Attempted">False when it never reached the target (busy, refused by ptrace).</param>
/// <param name="Busy">Another action on the same target was in progress.</param>
/// <param name="Outcome">The allocator's answer (released, nothing-released, requested, failed, not-supported) or the refusal reason.</param>
public sealed record TrimOutcome(
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
    long PauseMicroseconds);
