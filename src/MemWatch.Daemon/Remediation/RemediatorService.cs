using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Verdicts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Remediation;

/// <summary>
/// Introspects the targets whose rule allows it (or whose trim policy needs the releasable figure) every
/// IntrospectInterval, and applies each target's trim policy right after. Works through targets one at a time on its
/// own thread, so a slow target never delays sampling.
/// </summary>
internal sealed partial class RemediatorService : BackgroundService
{
    private readonly TargetRegistry _registry;
    private readonly AllocatorActions _actions;
    private readonly DaemonSettings _settings;
    private readonly ILogger _log;

    // The trims whose re-faulting was logged: once per trim, not on every visit.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<TrimEfficacyTracker, TrimEfficacyTracker> _refaultLogged = [];

    public RemediatorService(TargetRegistry registry, AllocatorActions actions, DaemonSettings settings, ILogger<RemediatorService> log)
    {
        _registry = registry;
        _actions = actions;
        _settings = settings;
        _log = log;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_settings.Rules.Any(r => r.Introspect || r.PolicyTrimEnabled))
        {
            return Task.CompletedTask;
        }

        return Task.Factory.StartNew(() => Loop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Loop(CancellationToken stop)
    {
        stop.WaitHandle.WaitOne(_registry.FirstTick.IsCompleted ? 0 : 100);
        while (!stop.IsCancellationRequested)
        {
            foreach (TargetState target in _registry.Snapshot())
            {
                if (stop.IsCancellationRequested)
                {
                    break;
                }

                try
                {
                    Visit(target);
                }
                catch (Exception e)
                {
                    LogFailed(target.Pid, e);
                }
            }

            stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(500));
        }
    }

    private void Visit(TargetState target)
    {
        long now = Environment.TickCount64;
        if (!target.Introspected || target.Exited || now < target.NextIntrospectTicks)
        {
            return;
        }

        target.NextIntrospectTicks = now + (long)_settings.Sampling.IntrospectInterval.TotalMilliseconds;
        if (!_actions.Introspect(target))
        {
            return;
        }

        ulong? releasable;
        ulong rss;
        long lastTrim;
        lock (target.Sync)
        {
            releasable = target.Allocator?.ReleasableBytes;
            rss = target.Counters.RssBytes;
            lastTrim = target.LastTrimUnixMilliseconds;
        }

        if (TrimPolicy.ShouldTrim(target.Rule, releasable, rss, lastTrim, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), out string reason))
        {
            TrimEfficacyTracker? tracker;
            lock (target.Sync)
            {
                tracker = target.TrimTracker;
            }

            // A trim whose release came back (re-faulted) only bought a fault storm: trimming again would do the same.
            // The verdict's advice says what to change instead; the policy leaves this process alone.
            if (tracker?.Result is { } last && last.IsRefaulted(ClassifierOptions.Default.TrimRefaultFraction, ClassifierOptions.Default.MinJudgedReleaseBytes))
            {
                if (!_refaultLogged.TryGetValue(tracker, out _))
                {
                    _refaultLogged.Add(tracker, tracker);
                    LogRefaulted(target.Pid, target.Comm, target.Rule.Name, last.RefaultedFraction * 100, last.ReleasedBytes / 1048576.0, last.ObservedSeconds);
                }

                return;
            }

            LogPolicyTrim(target.Pid, target.Comm, target.Rule.Name, reason);
            _actions.Trim(target, TrimTrigger.Policy, $"policy:{target.Rule.Name}", releasable);

            // Re-read soon so the metrics show the effect.
            target.NextIntrospectTicks = Environment.TickCount64 + 1000;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "policy of rule {Rule} trims {Pid} ({Comm}): {Reason}")]
    private partial void LogPolicyTrim(int pid, string comm, string rule, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "policy of rule {Rule} no longer trims {Pid} ({Comm}): {RefaultedPercent:0}% of the {ReleasedMiB:0.0} MiB its last trim released came back within {Seconds:0} s; see its verdict's recommendations")]
    private partial void LogRefaulted(int pid, string comm, string rule, double refaultedPercent, double releasedMiB, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "remediation pass over {Pid} failed")]
    private partial void LogFailed(int pid, Exception e);
}
