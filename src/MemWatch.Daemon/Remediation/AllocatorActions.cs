using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Runtimes.Node;
using MemWatch.Probes.Verdicts;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Remediation;

/// <summary>
/// Everything the daemon does inside a target through ptrace: reading allocator statistics and trims. One action per
/// target at a time (<see cref="TargetState.ActionGate"/>): introspections skip a busy target, an API trim waits a
/// little for an introspection to finish and then answers busy, nothing is queued. Thread safe.
/// </summary>
internal sealed partial class AllocatorActions
{
    public static readonly TimeSpan StatisticsTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(30);

    private readonly DaemonHealth _health;
    private readonly IRemediationAuditSink _audit;
    private readonly ProcFileSystem _fs;
    private readonly ILogger _log;
    private readonly TimeProvider _time;

    public AllocatorActions(DaemonHealth health, IRemediationAuditSink audit, ILogger<AllocatorActions> log, ProcFileSystem fs, TimeProvider time)
    {
        _time = time;
        _health = health;
        _audit = audit;
        _log = log;
        _fs = fs;
    }

    /// <summary>Reads the allocator's statistics into <see cref="TargetState.Allocator"/>; false when busy or refused.</summary>
    public bool Introspect(TargetState target)
    {
        if (IsQuarantined(target) is not null || !target.ActionGate.Wait(0))
        {
            return false;
        }

        try
        {
            using (AllocatorConnection connection = AllocatorConnection.Open(target.Pid, Identity(target)))
            {
                if (!connection.Introspector.IsSupported)
                {
                    return false;
                }

                AllocatorStatistics stats = connection.ReadStatistics(StatisticsTimeout);
                var reading = new AllocatorReading(
                    _time.GetUtcNow().ToUnixTimeMilliseconds(), stats.Allocator, stats.InUseBytes, stats.FreeBytes, stats.ReleasableBytes,
                    stats.PauseMicrosecondsMax);
                lock (target.Sync)
                {
                    target.RememberStatistics(stats, reading.UnixMilliseconds);
                    target.Allocator = reading;
                }
            }

            IntrospectV8(target);
            return true;
        }
        catch (RemoteCallException e)
        {
            if (e.LeftInCallee)
            {
                QuarantineTarget(target, e.Message);
            }
            else if (e.Reason != RemoteCallFailure.ProcessExited)
            {
                _health.CountError(SampleErrorReason.IntrospectionFailed);
                _log.IntrospectionRefused(target.Pid, target.Comm, e.Reason, e.Message);
            }

            return false;
        }
        finally
        {
            target.ActionGate.Release();
        }
    }

    /// <summary>
    /// A Node target under an Introspect rule: V8's heap figures through the same engine (V8Introspection: the isolate's
    /// thread idle in the event loop), remembered as the runtime's reading. A refusal keeps the last figures; the sampler's
    /// passive reading (none for V8) does not replace them (RuntimeReads).
    /// </summary>
    private void IntrospectV8(TargetState target)
    {
        if (target.Runtime != RuntimeKind.Node || !target.Rule.Introspect)
        {
            return;
        }

        RuntimeReading v8 = V8Introspection.Read(target.Pid, StatisticsTimeout, Identity(target));
        if (v8.Figures is null)
        {
            _log.V8NotAsked(target.Pid, target.Comm, v8.Problem ?? "");
            return;
        }

        lock (target.Sync)
        {
            target.RememberRuntime(new RuntimeSample(_time.GetUtcNow().ToUnixTimeMilliseconds(), v8));
        }
    }

    /// <summary>Asks the target's allocator to return free memory (malloc_trim(0) for glibc) and measures RSS around it.</summary>
    /// <param name="wait">How long to wait for an action in progress (a routine introspection takes well under
    /// <see cref="StatisticsTimeout"/>) before answering busy.</param>
    public TrimOutcome Trim(TargetState target, TrimTrigger trigger, string who, ulong? releasableBefore = null, TimeSpan wait = default)
    {
        DateTimeOffset at = _time.GetUtcNow();
        if (IsQuarantined(target) is string quarantine)
        {
            return Finish(new TrimOutcome(target.Pid, target.Comm, trigger, who, at, false, false, RemediationResult.Refused, "quarantined",
                $"MemWatch no longer acts on this process: {quarantine}", null, null, releasableBefore, 0));
        }

        if (!target.ActionGate.Wait(wait))
        {
            return Finish(new TrimOutcome(target.Pid, target.Comm, trigger, who, at, false, true, RemediationResult.Refused, "busy",
                "another action on this process is in progress", null, null, releasableBefore, 0));
        }

        TrimOutcome outcome;
        try
        {
            lock (target.Sync)
            {
                target.LastTrimUnixMilliseconds = at.ToUnixTimeMilliseconds();
            }

            ulong? before = Rss(target.Pid);
            try
            {
                using AllocatorConnection connection = AllocatorConnection.Open(target.Pid, Identity(target));
                ReleaseResult release = connection.Release(ReleaseTimeout);
                ulong? after = Rss(target.Pid);
                RemediationResult result = release.Outcome switch
                {
                    ReleaseOutcome.Released => RemediationResult.Released,
                    ReleaseOutcome.NothingReleased or ReleaseOutcome.Requested => RemediationResult.Requested,
                    ReleaseOutcome.NotSupported => RemediationResult.Refused,
                    _ => RemediationResult.Failed,
                };
                outcome = new TrimOutcome(target.Pid, target.Comm, trigger, who, at, release.Outcome != ReleaseOutcome.NotSupported, false,
                    result, OutcomeName(release.Outcome), release.Message, before, after, releasableBefore, release.PauseMicroseconds);
            }
            catch (RemoteCallException e)
            {
                if (e.LeftInCallee)
                {
                    QuarantineTarget(target, e.Message);
                }

                bool refused = e.Reason is RemoteCallFailure.PermissionDenied or RemoteCallFailure.AlreadyTraced
                    or RemoteCallFailure.NotSafe or RemoteCallFailure.Unsupported or RemoteCallFailure.Busy;
                outcome = new TrimOutcome(target.Pid, target.Comm, trigger, who, at, !refused, e.Reason == RemoteCallFailure.Busy,
                    refused ? RemediationResult.Refused : RemediationResult.Failed, ReasonName(e.Reason), e.Message, before, Rss(target.Pid),
                    releasableBefore, 0);
            }
        }
        finally
        {
            target.ActionGate.Release();
        }

        FollowTrim(target, outcome);
        return Finish(outcome);
    }

    /// <summary>
    /// Starts following RSS after a trim that released memory, so that the classifier and the trim policy see how much
    /// of it comes back (<see cref="TargetState.TrimTracker"/>, fed by the sampler).
    /// </summary>
    private static void FollowTrim(TargetState target, TrimOutcome outcome)
    {
        // A trim that gave back little is not worth following: it would replace the record of a real release.
        if (outcome.Result != RemediationResult.Released || outcome.RssBeforeBytes is not { } before || outcome.RssAfterBytes is not { } after
            || before < after + ClassifierOptions.Default.MinJudgedReleaseBytes)
        {
            return;
        }

        lock (target.Sync)
        {
            if (target.Window.Count == 0)
            {
                return;
            }

            // The window's newest sample stands in for the counters around the call; only RSS and the time are measured.
            MemorySample latest = target.Window.Newest;
            long at = outcome.At.ToUnixTimeMilliseconds();
            MemorySample beforeSample = latest with { TimestampMilliseconds = Math.Max(at, latest.TimestampMilliseconds), RssBytes = before };
            MemorySample afterSample = beforeSample with { TimestampMilliseconds = beforeSample.TimestampMilliseconds + 1, RssBytes = after };
            target.TrimTracker = new TrimEfficacyTracker(beforeSample, afterSample);
        }
    }

    private TrimOutcome Finish(TrimOutcome outcome)
    {
        _health.CountRemediation(RemediationAction.Trim, outcome.Result);
        _log.Trimmed(outcome.Pid, outcome.Comm, outcome.Trigger.ToString(), outcome.Who, outcome.Outcome, Mib(outcome.RssBeforeBytes), Mib(outcome.RssAfterBytes),
            outcome.PauseMicroseconds / 1000.0, outcome.Message);
        _audit.Record(outcome);
        return outcome;
    }

    private ulong? Rss(int pid) => ResidentSize.Read(_fs, pid);

    /// <summary>The process this state stands for: a PID that another process took since is refused before any call.</summary>
    private RemoteCallOptions Identity(TargetState target) =>
        new() { ExpectedStartTimeTicks = target.StartTimeTicks, ProcFileSystem = _fs };

    private static string? IsQuarantined(TargetState target)
    {
        lock (target.Sync)
        {
            return target.Quarantine;
        }
    }

    private void QuarantineTarget(TargetState target, string why)
    {
        lock (target.Sync)
        {
            target.Quarantine = why;
        }

        _health.CountError(SampleErrorReason.IntrospectionFailed);
        _log.Quarantined(target.Pid, target.Comm, why);
    }

    private static double Mib(ulong? bytes) => bytes is { } b ? b / 1048576.0 : double.NaN;

    public static string OutcomeName(ReleaseOutcome outcome) => outcome switch
    {
        ReleaseOutcome.Released => "released",
        ReleaseOutcome.NothingReleased => "nothing-released",
        ReleaseOutcome.Requested => "requested",
        ReleaseOutcome.Failed => "failed",
        _ => "not-supported",
    };

    public static string ReasonName(RemoteCallFailure reason) => reason switch
    {
        RemoteCallFailure.PermissionDenied => "permission-denied",
        RemoteCallFailure.AlreadyTraced => "already-traced",
        RemoteCallFailure.ProcessExited => "process-exited",
        RemoteCallFailure.NotSafe => "not-safe",
        RemoteCallFailure.Timeout => "timeout",
        RemoteCallFailure.CalleeFault => "callee-fault",
        RemoteCallFailure.Unsupported => "unsupported",
        _ => "busy",
    };
}
