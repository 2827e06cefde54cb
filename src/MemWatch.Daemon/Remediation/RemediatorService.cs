using MemWatch.Daemon.Clocks;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
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
    private readonly TimeProvider _time;

    // The trims whose re-faulting was logged: once per trim, not on every visit.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<TrimEfficacyTracker, TrimEfficacyTracker> _refaultLogged = [];

    public RemediatorService(TargetRegistry registry, AllocatorActions actions, DaemonSettings settings, ILogger<RemediatorService> log, TimeProvider time)
    {
        _registry = registry;
        _actions = actions;
        _settings = settings;
        _log = log;
        _time = time;
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
        _time.Wait(TimeSpan.FromMilliseconds(_registry.FirstTick.IsCompleted ? 0 : 100), stop);
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
                    _log.RemediationFailed(target.Pid, e);
                }
            }

            _time.Wait(TimeSpan.FromMilliseconds(500), stop);
        }
    }

    private void Visit(TargetState target)
    {
        long now = _time.MonotonicMilliseconds();
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

        if (TrimPolicy.ShouldTrim(target.Rule, releasable, rss, lastTrim, _time.GetUtcNow().ToUnixTimeMilliseconds(), out string reason))
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
                    _log.PolicyTrimRefaulted(target.Pid, target.Comm, target.Rule.Name, last.RefaultedFraction * 100, last.ReleasedBytes / 1048576.0, last.ObservedSeconds);
                }

                return;
            }

            _log.PolicyTrim(target.Pid, target.Comm, target.Rule.Name, reason);
            _actions.Trim(target, TrimTrigger.Policy, $"policy:{target.Rule.Name}", releasable);

            // Re-read soon so the metrics show the effect.
            target.NextIntrospectTicks = _time.MonotonicMilliseconds() + 1000;
        }
    }
}
