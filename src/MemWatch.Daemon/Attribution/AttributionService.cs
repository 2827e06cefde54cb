using System.Collections.Concurrent;
using MemWatch.Daemon.Clocks;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Reports;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Attribution;
using MemWatch.Probes.Verdicts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Attribution;

/// <summary>
/// Growth attribution in the daemon: captures on request (the <c>attribute</c> API route) and, for rules with
/// <c>Attribution.OnVerdict</c>, a capture when a target's verdict becomes <c>leak</c> or <c>unexplained-growth</c>
/// (at most once per MinInterval per target). One capture at a time, each on a thread of its own; the latest result
/// per target is kept for <c>GET /api/targets/PID/attribution</c>.
/// </summary>
internal sealed partial class AttributionService : BackgroundService
{
    internal static readonly string[] GrowthVerdicts = ["leak", "unexplained-growth"];

    private readonly TargetRegistry _registry;
    private readonly DaemonSettings _settings;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _one = new(1, 1);
    private readonly ConcurrentDictionary<int, AttributionRecord> _latest = new();
    private readonly ConcurrentDictionary<int, (ulong StartTime, string? Verdict, DateTimeOffset LastAuto)> _seen = new();

    public AttributionService(TargetRegistry registry, DaemonSettings settings, ILogger<AttributionService> log, TimeProvider time)
    {
        _time = time;
        _registry = registry;
        _settings = settings;
        _log = log;
    }

    internal bool TryGetLatest(int pid, out AttributionRecord? record) => _latest.TryGetValue(pid, out record);

    /// <summary>
    /// Captures <paramref name="target"/> for <paramref name="seconds"/>. Null when another capture runs (busy);
    /// throws <see cref="PerfAccessException"/> when perf events are refused.
    /// </summary>
    internal AttributionRecord? Capture(TargetState target, double seconds, string trigger, CancellationToken cancel)
    {
        if (!_one.Wait(0, CancellationToken.None))
        {
            return null;
        }

        try
        {
            AttributionResult? result = AttributionCapture.Run(target.Pid, TimeSpan.FromSeconds(seconds), cancel: cancel);
            if (result is null)
            {
                return null;
            }

            var record = new AttributionRecord(target.Pid, target.Comm, trigger, _time.GetUtcNow(), AttributionReport.From(result));
            _latest[target.Pid] = record;
            AttributionSite? top = result.Sites.Count > 0 ? result.Sites[0] : null;
            _log.AttributionCaptured(target.Pid, target.Comm, trigger, result.Bytes, top is null ? record.Attribution.Summary
                : $"{top.Share:P0} at {string.Join(" <- ", top.Frames.Take(6).Select(f => f.Function))}");
            return record;
        }
        finally
        {
            _one.Release();
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_settings.Rules.Any(r => r.Attribution.OnVerdict))
        {
            return Task.CompletedTask;
        }

        return Task.Factory.StartNew(() => Loop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Loop(CancellationToken stop)
    {
        while (_time.Wait(TimeSpan.FromSeconds(5), stop))
        {
            foreach (TargetState target in _registry.Snapshot())
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                AttributionRuleOptions options = target.Rule.Attribution;
                string? verdict;
                lock (target.Sync)
                {
                    verdict = target.Analysis?.Verdict?.Kind.ToName();
                }

                if (!options.OnVerdict || !ShouldCapture(target, verdict, options.MinInterval))
                {
                    continue;
                }

                try
                {
                    Capture(target, options.Seconds, $"verdict:{verdict}", stop);
                }
                catch (PerfAccessException e)
                {
                    _log.AttributionRefused(target.Pid, e.Message);
                }
            }

            foreach (int pid in _latest.Keys.Where(p => !_registry.TryGet(p, out _)).ToList())
            {
                _latest.TryRemove(pid, out _);
                _seen.TryRemove(pid, out _);
            }
        }
    }

    /// <summary>True when the verdict has just become a growth verdict and no automatic capture ran within the interval.</summary>
    private bool ShouldCapture(TargetState target, string? verdict, TimeSpan minInterval)
    {
        (ulong StartTime, string? Verdict, DateTimeOffset LastAuto) seen = _seen.TryGetValue(target.Pid, out var s) && s.StartTime == target.StartTimeTicks
            ? s
            : (target.StartTimeTicks, null, DateTimeOffset.MinValue);
        bool becameGrowth = verdict is not null && GrowthVerdicts.Contains(verdict) && seen.Verdict != verdict;
        DateTimeOffset now = _time.GetUtcNow();
        bool due = now - seen.LastAuto >= minInterval;
        _seen[target.Pid] = (target.StartTimeTicks, verdict, becameGrowth && due ? now : seen.LastAuto);
        return becameGrowth && due;
    }
}
