using MemWatch.Daemon.Clocks;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Remediation;

/// <summary>
/// Induces a full blocking GC in a .NET target through its diagnostic socket (<see cref="GcTrigger"/>), under the same
/// one-action-per-target gate as trims (<see cref="TargetState.ActionGate"/>), counted in memwatch_remediations_total
/// and recorded by the audit sink. Thread safe.
/// </summary>
internal sealed partial class DotNetActions
{
    /// <summary>For each of the trigger's three sessions (heap before, the GC, heap after).</summary>
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(10);

    private readonly DaemonHealth _health;
    private readonly IRemediationAuditSink _audit;
    private readonly ILogger _log;
    private readonly ProcFileSystem _fs;
    private readonly TimeProvider _time;

    public DotNetActions(DaemonHealth health, IRemediationAuditSink audit, ILogger<DotNetActions> log, ProcFileSystem fs, TimeProvider time)
    {
        _time = time;
        _fs = fs;
        _health = health;
        _audit = audit;
        _log = log;
    }

    /// <summary>The target's diagnostic socket: the cached one, else a fresh look (cached when found); null when it has none.</summary>
    /// <exception cref="UnauthorizedAccessException">The daemon may not look into the process's root.</exception>
    public DiagnosticEndpoint? FindEndpoint(TargetState target)
    {
        lock (target.Sync)
        {
            if (target.DotNetEndpoint is { } cached)
            {
                return cached;
            }
        }

        if (!new DiagnosticEndpointLocator(_fs).TryLocate(target.Pid, out DiagnosticEndpoint? endpoint))
        {
            return null;
        }

        lock (target.Sync)
        {
            target.DotNetEndpoint = endpoint;
        }

        return endpoint;
    }

    /// <summary>Finds the target's runtime (<see cref="FindEndpoint"/>) and induces one full GC.</summary>
    /// <param name="wait">How long to wait for another action on the target before answering busy.</param>
    public GcOutcome Gc(TargetState target, string who, TimeSpan wait)
    {
        DateTimeOffset at = _time.GetUtcNow();
        if (!target.ActionGate.Wait(wait))
        {
            return Finish(Refused(target, who, at, "busy", "another action on this process is in progress") with { Busy = true });
        }

        GcOutcome outcome;
        try
        {
            DiagnosticEndpoint? endpoint;
            try
            {
                endpoint = FindEndpoint(target);
                if (endpoint is null)
                {
                    // Not counted as a remediation: nothing was tried, and the caller gets its own error.
                    return Refused(target, who, at, "not-dotnet",
                        $"process {target.Pid} has no .NET diagnostic socket (not a .NET process, or started with DOTNET_EnableDiagnostics=0)") with
                    {
                        NotDotNet = true,
                    };
                }
            }
            catch (UnauthorizedAccessException e)
            {
                return Finish(Refused(target, who, at, "permission-denied", e.Message));
            }

            // The socket is named with its runtime's start time: one named with this target's start time reaches only this
            // process. Otherwise (another time namespace) the PID must still hold a process with that start time.
            if (endpoint.DisambiguationKey != target.StartTimeTicks
                && !(ProcStat.TryRead(_fs, target.Pid, new FileBuffer(4096), out ProcStat? stat) && stat.StartTimeTicks == target.StartTimeTicks))
            {
                return Finish(Refused(target, who, at, "process-exited", $"process {target.Pid} that MemWatch watched exited; its PID now names another process or none"));
            }

            ulong? before = Rss(target.Pid);
            try
            {
                GcTriggerResult gc = new GcTrigger().Trigger(endpoint, SessionTimeout);
                ulong? after = Rss(target.Pid);
                RemediationResult result = gc.ReclaimedBytes > 0 ? RemediationResult.Released : RemediationResult.Requested;
                string message = gc.GcObserved
                    ? $"full blocking GC ran; GC heap {gc.HeapBeforeBytes} -> {gc.HeapAfterBytes} bytes"
                    : $"GC requested but no GC event was seen; GC heap {gc.HeapBeforeBytes} -> {gc.HeapAfterBytes} bytes";
                outcome = new GcOutcome(target.Pid, target.Comm, who, at, true, false, false, result, DaemonHealth.ResultNames[(int)result],
                    message, before, after, gc);
            }
            catch (DotNetDiagnosticsException e)
            {
                bool refused = e.Reason is DotNetDiagnosticsFailure.PermissionDenied or DotNetDiagnosticsFailure.Refused;
                if (e.Reason == DotNetDiagnosticsFailure.Unreachable)
                {
                    lock (target.Sync)
                    {
                        target.DotNetEndpoint = null;
                    }
                }

                outcome = new GcOutcome(target.Pid, target.Comm, who, at, !refused, false, false,
                    refused ? RemediationResult.Refused : RemediationResult.Failed, ReasonName(e.Reason), e.Message, before, Rss(target.Pid), null);
            }

            // The counters are stale now: read them again soon so the metrics show the effect.
            target.NextDotNetTicks = _time.MonotonicMilliseconds() + 1000;
        }
        finally
        {
            target.ActionGate.Release();
        }

        return Finish(outcome);
    }

    private static GcOutcome Refused(TargetState target, string who, DateTimeOffset at, string outcome, string message) =>
        new(target.Pid, target.Comm, who, at, false, false, false, RemediationResult.Refused, outcome, message, null, null, null);

    private GcOutcome Finish(GcOutcome outcome)
    {
        _health.CountRemediation(RemediationAction.Gc, outcome.Result);
        _log.GcInduced(outcome.Pid, outcome.Comm, outcome.Who, outcome.Outcome, Mib(outcome.Gc?.HeapBeforeBytes), Mib(outcome.Gc?.HeapAfterBytes),
            Mib(outcome.RssBeforeBytes), Mib(outcome.RssAfterBytes), outcome.Gc?.PauseDuration?.TotalMilliseconds ?? double.NaN, outcome.Message);
        _audit.Record(outcome.ToAudit());
        return outcome;
    }

    private ulong? Rss(int pid) => ResidentSize.Read(_fs, pid);

    private static double Mib(ulong? bytes) => bytes is { } b ? b / 1048576.0 : double.NaN;

    public static string ReasonName(DotNetDiagnosticsFailure reason) => reason switch
    {
        DotNetDiagnosticsFailure.PermissionDenied => "permission-denied",
        DotNetDiagnosticsFailure.Unreachable => "unreachable",
        DotNetDiagnosticsFailure.Refused => "refused",
        DotNetDiagnosticsFailure.Timeout => "timeout",
        _ => "protocol",
    };
}
