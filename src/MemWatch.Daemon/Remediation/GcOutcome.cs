using MemWatch.Daemon.Metrics;
using MemWatch.Probes.DotNet;

namespace MemWatch.Daemon.Remediation;

/// <summary>What one induced .NET GC did: whether it ran, the runtime's heap figures and RSS before and after.</summary>
/// <param name="Attempted">False when it never reached the runtime (busy, not .NET, permission denied).</param>
/// <param name="NotDotNet">The process has no diagnostic socket: not .NET, or started with DOTNET_EnableDiagnostics=0.</param>
/// <param name="Outcome">released, requested, busy, not-dotnet, or the diagnostics failure (permission-denied, unreachable, timeout, refused, protocol).</param>
/// <param name="Gc">The trigger's figures when the GC session ran.</param>
internal sealed record GcOutcome(
    int Pid,
    string Comm,
    string Who,
    DateTimeOffset At,
    bool Attempted,
    bool Busy,
    bool NotDotNet,
    RemediationResult Result,
    string Outcome,
    string Message,
    ulong? RssBeforeBytes,
    ulong? RssAfterBytes,
    GcTriggerResult? Gc)
{
    /// <summary>The record the audit sink takes for every action.</summary>
    public TrimOutcome ToAudit() => new(
        Pid, Comm, TrimTrigger.Api, Who, At, Attempted, Busy, Result, Outcome, Message, RssBeforeBytes, RssAfterBytes, null,
        Gc?.PauseDuration is { } pause ? (long)pause.TotalMicroseconds : 0, RemediationAction.Gc);
}
