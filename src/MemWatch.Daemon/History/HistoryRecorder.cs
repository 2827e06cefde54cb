using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Remediation;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Analysis;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.History;

/// <summary>
/// The daemon's side of the history store: takes samples, verdict changes and remediations from the sampler and the
/// remediator (<see cref="ISampleSink"/>, <see cref="IRemediationAuditSink"/>) into in-memory batches that
/// <see cref="HistoryWriterService"/> writes on its own thread, so a slow disk never delays a tick. Resumes a new
/// target's window from the store (same boot, pid and starttime). Thread safe.
/// </summary>
internal sealed partial class HistoryRecorder : ISampleSink, IRemediationAuditSink
{
    /// <summary>Pending samples beyond this (the disk has stalled for many ticks) are dropped, newest first, and logged once.</summary>
    public const int MaxPendingSamples = 200_000;

    private readonly HistoryStore _store;
    private readonly DaemonSettings _settings;
    private readonly TargetRegistry _registry;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private List<HistorySample> _samples = [];
    private List<HistorySample> _spareSamples = [];
    private readonly List<VerdictChange> _verdicts = [];
    private readonly List<AuditEntry> _audit = [];

    // Last verdict kind recorded per target; sampler thread only.
    private readonly Dictionary<TargetState, string> _lastVerdict = new(ReferenceEqualityComparer.Instance);
    private bool _overflowLogged;

    public HistoryRecorder(HistoryStore store, DaemonSettings settings, TargetRegistry registry, ILogger<HistoryRecorder> log)
    {
        _store = store;
        _settings = settings;
        _registry = registry;
        _log = log;
    }

    public HistoryStore Store => _store;

    public void OnTargetStarted(TargetState target)
    {
        DateTimeOffset since = _store.Time.GetUtcNow() - _settings.Sampling.Window;
        try
        {
            SampleWindow window = target.Window;
            int count = _store.Reader.ResumeSamples(target.Pid, target.StartTimeTicks, since, s => window.Add(s));
            if (count > 0)
            {
                _log.HistoryResumed(target.Pid, target.Comm, count, DateTimeOffset.FromUnixTimeMilliseconds(window.Oldest.TimestampMilliseconds));
                if (LastVerdictOf(target) is { } kind)
                {
                    _lastVerdict[target] = kind;
                }
            }
        }
        catch (HistoryStoreException e)
        {
            _log.HistoryFailed("resume", e.Failure.ToString(), e.Message);
        }
    }

    public void OnSample(TargetState target, in MemorySample sample)
    {
        var row = new HistorySample(
            target.Pid, target.StartTimeTicks, target.Comm, DateTimeOffset.FromUnixTimeMilliseconds(sample.TimestampMilliseconds),
            sample.RssBytes, sample.AnonBytes, sample.FileBytes, sample.ShmemBytes, sample.SwapBytes, sample.MinorFaults, sample.MajorFaults,
            sample.AllocatorInUseBytes, sample.AllocatorFreeBytes);
        lock (_gate)
        {
            if (_samples.Count >= MaxPendingSamples)
            {
                if (!_overflowLogged)
                {
                    _overflowLogged = true;
                    _log.HistoryBehind(MaxPendingSamples);
                }

                return;
            }

            _samples.Add(row);
        }
    }

    public void OnAnalysis(TargetState target, TargetAnalysis analysis)
    {
        if (analysis.Verdict is not { } verdict
            || (_lastVerdict.TryGetValue(target, out string? last) && string.Equals(last, verdict.KindName, StringComparison.Ordinal)))
        {
            return;
        }

        _lastVerdict[target] = verdict.KindName;
        var change = new VerdictChange(target.Pid, target.StartTimeTicks, target.Comm, DateTimeOffset.FromUnixTimeMilliseconds(analysis.UnixMilliseconds),
            verdict.KindName, verdict.MechanismName, verdict.Confidence, verdict.Summary);
        lock (_gate)
        {
            _verdicts.Add(change);
        }
    }

    public void OnTargetExited(TargetState target) => _lastVerdict.Remove(target);

    public void Record(TrimOutcome outcome)
    {
        ulong startTicks = _registry.TryGet(outcome.Pid, out TargetState? t) && t.Comm == outcome.Comm ? t.StartTimeTicks : 0;
        long? released = outcome.RssBeforeBytes is { } b && outcome.RssAfterBytes is { } a ? (long)b - (long)a : null;
        var entry = new AuditEntry(outcome.At, outcome.Who, outcome.Pid, startTicks, outcome.Comm, "trim",
            DaemonHealth.ResultNames[(int)outcome.Result], outcome.RssBeforeBytes, outcome.RssAfterBytes, released,
            $"{outcome.Outcome}: {outcome.Message}");
        lock (_gate)
        {
            _audit.Add(entry);
        }

        // An action is rare and its record matters: written now, not with the next batch.
        Urgent.Set();
    }

    /// <summary>Set when something should be written before the next flush interval (an audit entry).</summary>
    public AutoResetEvent Urgent { get; } = new(false);

    /// <summary>Writes everything pending (audit first: it is the record that must not be lost). Writer thread only.</summary>
    public void Flush()
    {
        List<HistorySample> samples;
        VerdictChange[] verdicts;
        AuditEntry[] audit;
        lock (_gate)
        {
            samples = _samples;
            _samples = _spareSamples;
            _spareSamples = samples;
            verdicts = [.. _verdicts];
            _verdicts.Clear();
            audit = [.. _audit];
            _audit.Clear();
            _overflowLogged = false;
        }

        try
        {
            foreach (AuditEntry entry in audit)
            {
                _store.Writer.AppendAudit(entry);
            }

            foreach (VerdictChange change in verdicts)
            {
                _store.Writer.RecordVerdictChange(change);
            }

            if (samples.Count > 0)
            {
                _store.Writer.AppendSamples(samples);
            }
        }
        catch (Exception e) when (e is HistoryStoreException or ArgumentOutOfRangeException)
        {
            // A full disk or a database gone bad mid-run costs this batch, not the daemon.
            _log.HistoryFailed("write", (e is HistoryStoreException h ? h.Failure : HistoryFailure.Unavailable).ToString(), e.Message);
        }
        finally
        {
            samples.Clear();
        }
    }

    private string? LastVerdictOf(TargetState target)
    {
        IReadOnlyList<VerdictChange> changes = _store.Reader.LoadVerdictChanges(target.Pid, 1);
        return changes.Count > 0 && changes[^1].StartTimeTicks == target.StartTimeTicks ? changes[^1].Kind : null;
    }
}
