using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Clocks;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Kubernetes;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// One sampling tick over the whole host: walks the proc root once, reading each process's status; known targets
/// also get stat (the counters sample); unknown processes are matched against the rules. Then, within a time budget,
/// the targets that are due get smaps_rollup with their cgroup (and the growth analysis) and full smaps
/// (<see cref="DeepReader"/>).
/// </summary>
/// <remarks>
/// smaps and smaps_rollup make the kernel walk the target's page tables under its mmap lock, which stalls the target's
/// own mmap/munmap/page faults while it runs: a target whose read took long gets a longer interval (doubling, up to
/// 16x), shortened again once reads are quick. A PID that vanishes is dropped quietly; errors are counted by reason
/// and never stop the tick. Not thread safe: one instance, on the sampler thread.
/// <para>
/// A rollup also refits the target's trends, which on an hour's window is most of its cost. A target whose RSS is
/// where the last rollup found it gets its next one later (2x, then 4x the interval); a tick that sees RSS move by more
/// than <see cref="SteadyRssBytes"/> or 1% brings it back to the normal interval at once. Idle processes, most of any
/// host, are analysed every 2 minutes; a growing one as often as before.
/// </para>
/// <para>
/// Each target's stat and status stay open between ticks (<see cref="HeldProcessFiles"/>). stat is read every tick;
/// status, the dearer file for the kernel to generate, only when stat's RSS differs from what stat showed at the last
/// reading of status, or a minute has passed (<see cref="StatusMaxAgeMilliseconds"/>): in between, the split of RSS
/// into anon, file and shmem, swap and peak are carried forward. stat's RSS is the kernel's quick sum of its per-CPU
/// counters, so a change that leaves it where it was (anon growing exactly as much as file shrinks, or a few pages
/// still in per-CPU deltas) shows within the minute.
/// </para>
/// </remarks>
internal sealed partial class Sampler
{
    public const int MaxRollupStretch = 4;

    /// <summary>
    /// status (the split of RSS, swap, peak) is read again when stat shows RSS moved, and at least this often: an idle
    /// process's status is generated once a minute instead of every tick.
    /// </summary>
    public const long StatusMaxAgeMilliseconds = 60_000;

    /// <summary>
    /// A process that matched no rule at two looks in a row is looked at again after this long (default a minute): a
    /// rule on its command line, comm, unit or cgroup (which rarely change) is not evaluated for it every tick. A
    /// process that starts matching later (moved into a selected cgroup, grown past a rule's MinRssMiB) or a new
    /// process that takes a rejected PID in between is discovered that much later.
    /// </summary>
    public TimeSpan RejectedRecheck { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>RSS within this (or 1% of RSS, if more) of the last rollup's counts as not having moved.</summary>
    public const ulong SteadyRssBytes = 1024 * 1024;

    private readonly ProcFileSystem _fs;
    private readonly DaemonSettings _settings;
    private readonly TargetRegistry _registry;
    private readonly DaemonHealth _health;
    private readonly TargetMatcher _matcher;
    private readonly ISampleSink _sink;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly FileBuffer _buffer = new(16 * 1024);
    private readonly ReadFailures _failures;
    private readonly DeepReader _deep;
    private readonly PodDirectory _pods;
    private readonly HashSet<int> _seen = [];
    private readonly RejectedProcesses _rejected = new();
    private long _tickNumber;
    private readonly List<TargetState> _gone = [];
    private readonly int _windowCapacity;

    // The smallest MinRssMiB of any rule: below it a process cannot match, which statm (a few numbers) tells more
    // cheaply than status (the kernel formats some fifty lines).
    private readonly ulong _minRssBytes;
    private bool _limitLogged;

    public Sampler(
        ProcFileSystem fs,
        DaemonSettings settings,
        TargetRegistry registry,
        DaemonHealth health,
        TargetAnalyzer analyzer,
        ISampleSink sink,
        ILogger<Sampler> log,
        TimeProvider time,
        PodDirectory? pods = null)
    {
        _pods = pods ?? PodDirectory.None;
        _fs = fs;
        _settings = settings;
        _registry = registry;
        _health = health;
        _sink = sink;
        _log = log;
        _time = time;
        var resolver = new CgroupResolver(fs, hostRoot: settings.Sampling.HostCgroupRoot);
        _matcher = new TargetMatcher(fs, settings.Rules, resolver);
        _failures = new ReadFailures(fs, _buffer, health, log);
        _deep = new DeepReader(fs, settings, registry, health, analyzer, sink, log, time, _buffer, _failures, resolver, _pods);

        SamplingOptions s = settings.Sampling;
        _windowCapacity = (int)Math.Clamp(s.Window / s.Interval + 16, 16, 100_000);
        _minRssBytes = settings.Rules.Count == 0 ? 0 : settings.Rules.Min(r => r.Selector.MinRssBytes);
    }

    /// <summary>Samples every target once, discovers new ones, drops those that exited, and does the due deeper reads.</summary>
    public void Tick()
    {
        long unixMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        long now = _time.MonotonicMilliseconds();
        Meminfo? host = Meminfo.TryRead(_fs, _buffer, out Meminfo? m) ? m : null;

        _seen.Clear();
        _tickNumber++;
        bool limitHit = false;
        foreach (int pid in ProcessEnumerator.EnumerateProcessIds(_fs))
        {
            try
            {
                SampleOrDiscover(pid, unixMs, now, ref limitHit);
            }
            catch (Exception e) when (ReadFailures.IsReadFailure(e))
            {
                // A known target that cannot be read any more is dropped (not added to _seen) and the failure counted;
                // an unknown process that cannot be read is simply not a candidate (hidepid, another user's process).
                if (_registry.TryGet(pid, out _))
                {
                    _failures.Count(e, pid);
                }
            }
        }

        if (limitHit)
        {
            _health.CountError(SampleErrorReason.TargetLimit);
            if (!_limitLogged)
            {
                _limitLogged = true;
                _log.TargetLimit(_settings.Sampling.MaxTargets);
            }
        }

        RemoveGone();
        _rejected.ForgetUnlisted(_tickNumber);
        _deep.Run(host, unixMs, now);
        _health.Targets = _registry.Count;
        _health.TickCompleted(_time.GetUtcNow().ToUnixTimeMilliseconds());
        _registry.MarkFirstTick();
    }

    /// <summary>Whether RSS has moved from <paramref name="before"/> by more than <see cref="SteadyRssBytes"/> or 1%.</summary>
    internal static bool Moved(ulong rss, ulong before)
    {
        ulong delta = rss > before ? rss - before : before - rss;
        return delta > Math.Max(SteadyRssBytes, before / 100);
    }

    private void SampleOrDiscover(int pid, long unixMs, long now, ref bool limitHit)
    {
        long start = _time.GetTimestamp();
        bool known = _registry.TryGet(pid, out TargetState? target);
        if (known && target!.HeldFiles is { } held)
        {
            if (held.TryReadStat(_buffer, out ProcStat? heldStat) && heldStat.StartTimeTicks == target.StartTimeTicks)
            {
                if (heldStat.RssBytes == target.StatRssAtStatus && now - target.LastStatusTicks < StatusMaxAgeMilliseconds)
                {
                    // stat's RSS is where it was when status was last read, to the page: status's split, swap and peak
                    // are carried forward, and an idle process costs one small read a tick.
                    RecordKnown(target, target.Counters with
                    {
                        UnixMilliseconds = unixMs,
                        MinorFaults = heldStat.MinorFaults,
                        MajorFaults = heldStat.MajorFaults,
                        Threads = heldStat.ThreadCount,
                    }, heldStat.StartTimeTicks, start);
                    return;
                }

                if (held.TryReadStatus(_buffer, out ProcStatus? heldStatus) && heldStatus.VmRssBytes is not null)
                {
                    target.StatusRead(now, heldStat.RssBytes);
                    RecordKnown(target, CountersOf(heldStatus, heldStat, unixMs), heldStat.StartTimeTicks, start);
                    return;
                }
            }

            // The process they were opened for has exited or is a zombie: reading by path tells an exit from a PID
            // that another process has taken.
            target.HeldFiles = null;
            held.Dispose();
        }

        if (!known && _rejected.Skips(pid, _tickNumber, now))
        {
            return;
        }

        if (!known && _minRssBytes > 0
            && (!ProcStatm.TryRead(_fs, pid, _buffer, out ProcStatm? statm) || statm.ResidentBytes < _minRssBytes))
        {
            // Gone, a kernel thread, or too small for every rule.
            return;
        }

        if (!ProcStatus.TryRead(_fs, pid, _buffer, out ProcStatus? status) || status.VmRssBytes is null)
        {
            // Gone, a zombie, or a kernel thread (no mm).
            return;
        }

        ProcStat? stat = null;
        if (known && target is not null)
        {
            if (!ProcStat.TryRead(_fs, pid, _buffer, out stat))
            {
                return;
            }

            if (stat.StartTimeTicks == target.StartTimeTicks)
            {
                target.StatusRead(now, stat.RssBytes);
                RecordKnown(target, CountersOf(status, stat, unixMs), stat.StartTimeTicks, start);
                return;
            }

            // The PID now belongs to another process: forget the old one, and judge the new one afresh.
            Drop(target, "its PID was reused");
        }

        string? cgroupPath = null;
        TargetRule? rule = _matcher.Match(pid, status, ref cgroupPath);
        if (rule is null)
        {
            _rejected.Reject(pid, _tickNumber, now + (long)RejectedRecheck.TotalMilliseconds);
            return;
        }

        _rejected.Forget(pid);

        if (_registry.Count >= _settings.Sampling.MaxTargets)
        {
            limitHit = true;
            return;
        }

        if (stat is null && !ProcStat.TryRead(_fs, pid, _buffer, out stat))
        {
            return;
        }

        cgroupPath ??= _matcher.ReadCgroupPath(pid);
        target = new TargetState(pid, stat.StartTimeTicks, status.Name, rule, _pods.Name(TargetIdentity.FromCgroupPath(cgroupPath)),
            new SampleWindow(_windowCapacity, _settings.Sampling.Window))
        {
            NextRollupTicks = now,
            NextSmapsTicks = now,
            NextIntrospectTicks = now,
        };
        _sink.OnTargetStarted(target);

        // Recorded before it is published, so no reader sees a target without counters.
        target.StatusRead(now, stat.RssBytes);
        Record(target, CountersOf(status, stat, unixMs), stat.StartTimeTicks);
        target.HeldFiles = HeldProcessFiles.TryOpen(_fs, pid);
        _registry.Add(target);
        _log.Watching(pid, status.Name, rule.Name, target.Identity.Unit);
        _health.ObserveDuration(SampleDepth.Status, _time.GetElapsedTime(start).TotalSeconds);
        _seen.Add(pid);
    }

    private void RecordKnown(TargetState target, ProcessCounters counters, ulong startTimeTicks, long start)
    {
        Record(target, counters, startTimeTicks);
        if (target.RollupStretch > 1 && Moved(counters.RssBytes, target.RollupRssBytes))
        {
            // RSS moves: the stretched rollup is due at the normal interval after the last one.
            target.NextRollupTicks = Math.Min(
                target.NextRollupTicks,
                target.LastRollupTicks + (long)(_settings.Sampling.RollupInterval.TotalMilliseconds * target.RollupBackoff));
        }

        _health.ObserveDuration(SampleDepth.Status, _time.GetElapsedTime(start).TotalSeconds);
        _seen.Add(target.Pid);
    }

    private static ProcessCounters CountersOf(ProcStatus status, ProcStat stat, long unixMs) => new(
        unixMs,
        status.VmRssBytes ?? 0,
        status.RssAnonBytes ?? 0,
        status.RssFileBytes ?? 0,
        status.RssShmemBytes ?? 0,
        status.VmSwapBytes ?? 0,
        status.VmHwmBytes ?? 0,
        stat.MinorFaults,
        stat.MajorFaults,
        status.Threads);

    private void Record(TargetState target, ProcessCounters counters, ulong startTimeTicks)
    {
        long unixMs = counters.UnixMilliseconds;
        lock (target.Sync)
        {
            // Allocator figures join the first sample after each introspection.
            AllocatorReading? a = target.Allocator;
            bool fresh = a is not null && a.UnixMilliseconds > target.Counters.UnixMilliseconds;
            var sample = new MemorySample(
                unixMs, startTimeTicks, counters.RssBytes, counters.AnonBytes, counters.FileBytes, counters.ShmemBytes,
                counters.SwapBytes, counters.MinorFaults, counters.MajorFaults,
                fresh && a!.InUseBytes is { } used ? used : double.NaN,
                fresh && a!.FreeBytes is { } free ? free : double.NaN);
            target.Counters = counters;
            target.Window.Add(sample);
            target.TrimTracker?.Observe(sample);
            _sink.OnSample(target, sample);
        }
    }

    private void RemoveGone()
    {
        _gone.Clear();
        foreach (KeyValuePair<int, TargetState> entry in _registry.Entries)
        {
            if (!_seen.Contains(entry.Key))
            {
                _gone.Add(entry.Value);
            }
        }

        foreach (TargetState target in _gone)
        {
            Drop(target, "it exited");
        }
    }

    private void Drop(TargetState target, string why)
    {
        target.HeldFiles?.Dispose();
        target.HeldFiles = null;
        if (_registry.Remove(target.Pid, out _))
        {
            lock (target.Sync)
            {
                target.Exited = true;
                _sink.OnTargetExited(target);
            }

            _log.StoppedWatching(target.Pid, target.Comm, why);
        }
    }
}
