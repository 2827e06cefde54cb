using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Metrics;
using MemWatch.Probes;
using MemWatch.Probes.Analysis;
using MemWatch.Daemon.Kubernetes;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Snapshots;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// One sampling tick over the whole host: walks the proc root once, reading each process's status; known targets
/// also get stat (the counters sample); unknown processes are matched against the rules. Then, within a time budget,
/// the targets that are due get smaps_rollup with their cgroup (and the growth analysis) and full smaps.
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

    private const int MaxBackoff = 16;
    private const double SlowRollupSeconds = 0.1;
    private const double SlowSmapsSeconds = 0.25;

    private readonly ProcFileSystem _fs;
    private readonly DaemonSettings _settings;
    private readonly TargetRegistry _registry;
    private readonly DaemonHealth _health;
    private readonly TargetMatcher _matcher;
    private readonly TargetAnalyzer _analyzer;
    private PressureStall? _hostPressure;
    private long _hostPressureTick = -1;
    private readonly ISampleSink _sink;
    private readonly ILogger _log;
    private readonly FileBuffer _buffer = new(16 * 1024);
    private readonly Smaps _smaps = new(64 * 1024);
    private readonly ProcessSnapshotReader _snapshots;
    private readonly CgroupMemoryReader _cgroups;
    private readonly PodDirectory _pods;
    private readonly HashSet<int> _seen = [];

    // Processes that matched no rule, by PID: looked at again only after RejectedRecheck, once a second
    // look has confirmed the first (a process may exec its final program just after it starts).
    private readonly Dictionary<int, Rejection> _rejected = [];
    private long _tickNumber;
    private readonly List<TargetState> _gone = [];

    // Targets in one cgroup share its reading within a tick: a cgroup read is several files, ancestors included.
    private readonly Dictionary<string, CgroupReading?> _cgroupsThisTick = new(StringComparer.Ordinal);
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
        PodDirectory? pods = null)
    {
        _pods = pods ?? PodDirectory.None;
        _fs = fs;
        _settings = settings;
        _registry = registry;
        _health = health;
        _analyzer = analyzer;
        _sink = sink;
        _log = log;
        var resolver = new CgroupResolver(fs, hostRoot: settings.Sampling.HostCgroupRoot);
        _matcher = new TargetMatcher(fs, settings.Rules, resolver);
        _snapshots = new ProcessSnapshotReader(fs, cgroups: null);
        _cgroups = new CgroupMemoryReader(resolver);
        if (resolver.HostRoot is { } hostRoot && !resolver.HasCgroupMounts(_buffer))
        {
            LogNoCgroupMounts(hostRoot);
        }

        SamplingOptions s = settings.Sampling;
        _windowCapacity = (int)Math.Clamp(s.Window / s.Interval + 16, 16, 100_000);
        _minRssBytes = settings.Rules.Count == 0 ? 0 : settings.Rules.Min(r => r.Selector.MinRssBytes);
    }

    /// <summary>Samples every target once, discovers new ones, drops those that exited, and does the due deeper reads.</summary>
    public void Tick()
    {
        long unixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long now = Environment.TickCount64;
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
            catch (Exception e) when (IsReadFailure(e))
            {
                // A known target that cannot be read any more is dropped (not added to _seen) and the failure counted;
                // an unknown process that cannot be read is simply not a candidate (hidepid, another user's process).
                if (_registry.TryGet(pid, out _))
                {
                    CountReadFailure(e, pid);
                }
            }
        }

        if (limitHit)
        {
            _health.CountError(SampleErrorReason.TargetLimit);
            if (!_limitLogged)
            {
                _limitLogged = true;
                LogTargetLimit(_settings.Sampling.MaxTargets);
            }
        }

        RemoveGone();
        foreach (KeyValuePair<int, Rejection> entry in _rejected)
        {
            if (entry.Value.ListedInTick != _tickNumber)
            {
                _rejected.Remove(entry.Key);
            }
        }

        _cgroupsThisTick.Clear();
        DeepReads(host, unixMs, now);
        _health.Targets = _registry.Count;
        _health.TickCompleted(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _registry.MarkFirstTick();
    }

    private void SampleOrDiscover(int pid, long unixMs, long now, ref bool limitHit)
    {
        long start = Stopwatch.GetTimestamp();
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

        if (!known && _rejected.Count > 0)
        {
            ref Rejection rejection = ref CollectionsMarshal.GetValueRefOrNullRef(_rejected, pid);
            if (!Unsafe.IsNullRef(ref rejection))
            {
                rejection.ListedInTick = _tickNumber;
                if (rejection.Confirmed && now < rejection.RecheckAt)
                {
                    return;
                }
            }
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
            ref Rejection rejection = ref CollectionsMarshal.GetValueRefOrAddDefault(_rejected, pid, out bool before);
            rejection = new Rejection { ListedInTick = _tickNumber, Confirmed = before, RecheckAt = now + (long)RejectedRecheck.TotalMilliseconds };
            return;
        }

        _rejected.Remove(pid);

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
        LogWatching(pid, status.Name, rule.Name, target.Identity.Unit);
        _health.ObserveDuration(SampleDepth.Status, Stopwatch.GetElapsedTime(start).TotalSeconds);
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

        _health.ObserveDuration(SampleDepth.Status, Stopwatch.GetElapsedTime(start).TotalSeconds);
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

            LogDropped(target.Pid, target.Comm, why);
        }
    }

    /// <summary>Rollups and smaps of the due targets, spending at most half an interval per tick; the rest wait a tick.</summary>
    private void DeepReads(Meminfo? host, long unixMs, long now)
    {
        long budgetEnd = Stopwatch.GetTimestamp() + (long)(_settings.Sampling.Interval.TotalSeconds / 2 * Stopwatch.Frequency);
        foreach (KeyValuePair<int, TargetState> entry in _registry.Entries)
        {
            if (Stopwatch.GetTimestamp() > budgetEnd)
            {
                break;
            }

            TargetState target = entry.Value;
            try
            {
                if (now >= target.NextRollupTicks)
                {
                    Rollup(target, host, unixMs, now);
                }

                if (now >= target.NextSmapsTicks)
                {
                    SmapsPass(target, now);
                }
            }
            catch (Exception e) when (IsReadFailure(e))
            {
                CountReadFailure(e, target.Pid);

                // Try again at the normal pace, not on every tick.
                target.NextRollupTicks = Math.Max(target.NextRollupTicks, now + (long)_settings.Sampling.RollupInterval.TotalMilliseconds);
                target.NextSmapsTicks = Math.Max(target.NextSmapsTicks, now + (long)_settings.Sampling.SmapsInterval.TotalMilliseconds);
            }
        }
    }

    private void Rollup(TargetState target, Meminfo? host, long unixMs, long now)
    {
        long start = Stopwatch.GetTimestamp();
        if (!SmapsRollup.TryRead(_fs, target.Pid, _buffer, out SmapsRollup? rollup, _smaps))
        {
            return;
        }

        if (target.Identity is { PodUid.Length: > 0, Pod.Length: 0 } unnamed && _pods.Name(unnamed) is { Pod.Length: > 0 } named)
        {
            target.Rename(named);
        }

        string cgroupPath = target.Identity.CgroupPath;
        if (cgroupPath.Length == 0 || !_cgroupsThisTick.TryGetValue(cgroupPath, out CgroupReading? cgroup))
        {
            cgroup = ReadCgroup(target);
            if (cgroupPath.Length > 0)
            {
                _cgroupsThisTick[cgroupPath] = cgroup;
            }
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _health.ObserveDuration(SampleDepth.Rollup, seconds);
        target.RollupBackoff = Adapt(target.RollupBackoff, seconds, SlowRollupSeconds, target, "smaps_rollup");
        ulong rss = target.Counters.RssBytes;
        target.RollupStretch = target.RollupRssBytes > 0 && !Moved(rss, target.RollupRssBytes)
            ? Math.Min(target.RollupStretch * 2, MaxRollupStretch)
            : 1;
        target.RollupRssBytes = rss;
        target.LastRollupTicks = now;
        target.NextRollupTicks = now + (long)(_settings.Sampling.RollupInterval.TotalMilliseconds * target.RollupBackoff * target.RollupStretch);

        lock (target.Sync)
        {
            target.PssBytes = rollup.PssBytes;
            target.Cgroup = cgroup;
            TargetAnalysis analysis = _analyzer.Analyze(target, host, unixMs, HostPressure());
            target.Analysis = analysis;
            _sink.OnAnalysis(target, analysis);
        }
    }

    /// <summary>/proc/pressure/memory, read at the first rollup of a tick and kept for the tick; null without PSI.</summary>
    private PressureStall? HostPressure()
    {
        if (_hostPressureTick != _tickNumber)
        {
            _hostPressureTick = _tickNumber;
            try
            {
                _hostPressure = PressureStall.TryReadSystem(_fs, _buffer, out PressureStall? p) ? p : null;
            }
            catch (Exception e) when (IsReadFailure(e))
            {
                _hostPressure = null;
            }
        }

        return _hostPressure;
    }

    private CgroupReading? ReadCgroup(TargetState target)
    {
        try
        {
            if (!_cgroups.Resolver.TryResolveMemory(target.Pid, _buffer, out CgroupLocation? location))
            {
                return null;
            }

            if (location is null)
            {
                // Not unlimited: unknown. The forecast falls back to host memory, which a pod's OOM kill comes before.
                if (!target.CgroupUnresolvedLogged)
                {
                    target.CgroupUnresolvedLogged = true;
                    LogCgroupUnresolved(target.Pid, target.Comm, target.Identity.CgroupPath, _cgroups.Resolver.HostRoot ?? "(every cgroup mount)");
                }

                return null;
            }

            if (!CgroupMemory.TryRead(location, _buffer, out CgroupMemory? cg))
            {
                return null;
            }

            return new CgroupReading(cg.Path, cg.EffectiveLimitBytes ?? cg.LimitBytes, cg.UsageBytes, cg.Stat?.InactiveFileBytes, cg.OomKills) { Pressure = cg.Pressure };
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            // The cgroup is optional: a removed cgroup or a restricted file leaves the target without cgroup figures.
            return null;
        }
    }

    private void SmapsPass(TargetState target, long now)
    {
        long start = Stopwatch.GetTimestamp();
        if (!_snapshots.TryCapture(target.Pid, SnapshotDepth.Full, out ProcessSnapshot? snapshot) || snapshot.Layout is not { } layout)
        {
            return;
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _health.ObserveDuration(SampleDepth.Smaps, seconds);
        target.SmapsBackoff = Adapt(target.SmapsBackoff, seconds, SlowSmapsSeconds, target, "smaps");
        target.NextSmapsTicks = now + (long)(_settings.Sampling.SmapsInterval.TotalMilliseconds * target.SmapsBackoff);

        ulong[] regions = new ulong[RegionKindNames.Count];
        foreach (RegionTotals totals in layout.Regions)
        {
            regions[(int)totals.Kind] = totals.RssBytes;
        }

        var reading = new LayoutReading(
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), regions, layout.ArenaCount + (layout.HasMainArena ? 1 : 0), layout.Allocator.Name, layout.Allocator.DotNetRuntime, seconds);
        RuntimeSample? runtime = RuntimeReads.Read(_fs, _buffer, target, snapshot.Status);
        lock (target.Sync)
        {
            target.RememberLayout(layout, reading.UnixMilliseconds, snapshot.Status.Threads);
            target.Layout = reading;
            if (runtime is not null)
            {
                target.RememberRuntime(runtime);
            }
        }
    }

    private static bool Moved(ulong rss, ulong before)
    {
        ulong delta = rss > before ? rss - before : before - rss;
        return delta > Math.Max(SteadyRssBytes, before / 100);
    }

    private int Adapt(int backoff, double seconds, double slow, TargetState target, string what)
    {
        if (seconds > slow && backoff < MaxBackoff)
        {
            LogSlowRead(target.Pid, target.Comm, what, seconds * 1000, backoff * 2);
            return backoff * 2;
        }

        return seconds < slow / 5 && backoff > 1 ? backoff / 2 : backoff;
    }

    private void CountReadFailure(Exception e, int pid)
    {
        if (HasExited(pid))
        {
            return;
        }

        SampleErrorReason reason = e switch
        {
            UnauthorizedAccessException => SampleErrorReason.PermissionDenied,
            ProcParseException => SampleErrorReason.Malformed,
            _ => SampleErrorReason.IoError,
        };
        _health.CountError(reason);
        LogReadFailed(pid, reason, e.Message);
    }

    /// <summary>A process that exits between two reads is not an error: its files vanish, and a zombie's smaps read empty.</summary>
    private bool HasExited(int pid)
    {
        try
        {
            return !ProcStat.TryRead(_fs, pid, _buffer, out ProcStat? stat) || (stat.State is 'Z' or 'X' && stat.ThreadCount <= 1);
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            return false;
        }
    }

    private static bool IsReadFailure(Exception e) =>
        e is UnauthorizedAccessException or ProcParseException or IOException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "the memory cgroup '{Cgroup}' of {Pid} ({Comm}) is not visible through {CgroupRoot}: its limit is unknown and its forecast uses host memory (mount the host's /sys/fs/cgroup and set Sampling.HostCgroupRoot)")]
    private partial void LogCgroupUnresolved(int pid, string comm, string cgroup, string cgroupRoot);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sampling.HostCgroupRoot {CgroupRoot} holds no cgroup mount with the memory controller: no target's cgroup limit will be known")]
    private partial void LogNoCgroupMounts(string cgroupRoot);

    [LoggerMessage(Level = LogLevel.Information, Message = "watching {Pid} ({Comm}) under rule {Rule}, unit '{Unit}'")]
    private partial void LogWatching(int pid, string comm, string rule, string unit);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopped watching {Pid} ({Comm}): {Why}")]
    private partial void LogDropped(int pid, string comm, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "more processes match than Sampling.MaxTargets ({Max}); the rest are not watched (counted in memwatch_sample_errors_total{{reason=\"target_limit\"}})")]
    private partial void LogTargetLimit(int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Pid} ({Comm}): {What} took {Milliseconds:0} ms; its interval is now x{Backoff}")]
    private partial void LogSlowRead(int pid, string comm, string what, double milliseconds, int backoff);

    [LoggerMessage(Level = LogLevel.Debug, Message = "reading {Pid} failed ({Reason}): {Message}")]
    private partial void LogReadFailed(int pid, SampleErrorReason reason, string message);

    private struct Rejection
    {
        public long RecheckAt;
        public long ListedInTick;
        public bool Confirmed;
    }
}
