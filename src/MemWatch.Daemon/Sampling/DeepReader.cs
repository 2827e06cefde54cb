using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Kubernetes;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Snapshots;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// The deeper reads at the end of a tick: for each target that is due, smaps_rollup with its cgroup and then the growth
/// analysis, and full smaps (the region model, the runtime's figures), within half an interval.
/// </summary>
/// <remarks>
/// Both make the kernel walk the target's page tables under its mmap lock: a target whose read took long gets a longer
/// interval (doubling, up to 16x), shortened again once reads are quick. A rollup that finds RSS where the last one left
/// it stretches the next (<see cref="Sampler.MaxRollupStretch"/>). On the sampler thread only.
/// </remarks>
internal sealed class DeepReader
{
    private const int MaxBackoff = 16;
    private const double SlowRollupSeconds = 0.1;
    private const double SlowSmapsSeconds = 0.25;

    private readonly ProcFileSystem _fs;
    private readonly DaemonSettings _settings;
    private readonly TargetRegistry _registry;
    private readonly DaemonHealth _health;
    private readonly TargetAnalyzer _analyzer;
    private readonly ISampleSink _sink;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly FileBuffer _buffer;
    private readonly ReadFailures _failures;
    private readonly PodDirectory _pods;
    private readonly Smaps _smaps = new(64 * 1024);
    private readonly ProcessSnapshotReader _snapshots;
    private readonly CgroupMemoryReader _cgroups;

    // Targets in one cgroup share its reading within a tick: a cgroup read is several files, ancestors included.
    private readonly Dictionary<string, CgroupReading?> _cgroupsThisTick = new(StringComparer.Ordinal);
    private PressureStall? _hostPressure;
    private bool _hostPressureRead;

    public DeepReader(
        ProcFileSystem fs,
        DaemonSettings settings,
        TargetRegistry registry,
        DaemonHealth health,
        TargetAnalyzer analyzer,
        ISampleSink sink,
        ILogger log,
        TimeProvider time,
        FileBuffer buffer,
        ReadFailures failures,
        CgroupResolver resolver,
        PodDirectory pods)
    {
        _fs = fs;
        _settings = settings;
        _registry = registry;
        _health = health;
        _analyzer = analyzer;
        _sink = sink;
        _log = log;
        _time = time;
        _buffer = buffer;
        _failures = failures;
        _pods = pods;
        _snapshots = new ProcessSnapshotReader(fs, cgroups: null);
        _cgroups = new CgroupMemoryReader(resolver);
        if (resolver.HostRoot is { } hostRoot && !resolver.HasCgroupMounts(_buffer))
        {
            _log.NoCgroupMounts(hostRoot);
        }
    }

    /// <summary>Rollups and smaps of the due targets, spending at most half an interval; the rest wait a tick.</summary>
    public void Run(Meminfo? host, long unixMs, long now)
    {
        _cgroupsThisTick.Clear();
        _hostPressureRead = false;
        long budgetEnd = _time.GetTimestamp() + (long)(_settings.Sampling.Interval.TotalSeconds / 2 * _time.TimestampFrequency);
        foreach (KeyValuePair<int, TargetState> entry in _registry.Entries)
        {
            if (_time.GetTimestamp() > budgetEnd)
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
            catch (Exception e) when (ReadFailures.IsReadFailure(e))
            {
                _failures.Count(e, target.Pid);

                // Try again at the normal pace, not on every tick.
                target.NextRollupTicks = Math.Max(target.NextRollupTicks, now + (long)_settings.Sampling.RollupInterval.TotalMilliseconds);
                target.NextSmapsTicks = Math.Max(target.NextSmapsTicks, now + (long)_settings.Sampling.SmapsInterval.TotalMilliseconds);
            }
        }
    }

    private void Rollup(TargetState target, Meminfo? host, long unixMs, long now)
    {
        long start = _time.GetTimestamp();
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

        double seconds = _time.GetElapsedTime(start).TotalSeconds;
        _health.ObserveDuration(SampleDepth.Rollup, seconds);
        target.RollupBackoff = Adapt(target.RollupBackoff, seconds, SlowRollupSeconds, target, "smaps_rollup");
        ulong rss = target.Counters.RssBytes;
        target.RollupStretch = target.RollupRssBytes > 0 && !Sampler.Moved(rss, target.RollupRssBytes)
            ? Math.Min(target.RollupStretch * 2, Sampler.MaxRollupStretch)
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
        if (!_hostPressureRead)
        {
            _hostPressureRead = true;
            try
            {
                _hostPressure = PressureStall.TryReadSystem(_fs, _buffer, out PressureStall? p) ? p : null;
            }
            catch (Exception e) when (ReadFailures.IsReadFailure(e))
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
                    _log.CgroupUnresolved(target.Pid, target.Comm, target.Identity.CgroupPath, _cgroups.Resolver.HostRoot ?? "(every cgroup mount)");
                }

                return null;
            }

            if (!CgroupMemory.TryRead(location, _buffer, out CgroupMemory? cg))
            {
                return null;
            }

            return new CgroupReading(cg.Path, cg.EffectiveLimitBytes ?? cg.LimitBytes, cg.UsageBytes, cg.Stat?.InactiveFileBytes, cg.OomKills) { Pressure = cg.Pressure };
        }
        catch (Exception e) when (ReadFailures.IsReadFailure(e))
        {
            // The cgroup is optional: a removed cgroup or a restricted file leaves the target without cgroup figures.
            return null;
        }
    }

    private void SmapsPass(TargetState target, long now)
    {
        long start = _time.GetTimestamp();
        if (!_snapshots.TryCapture(target.Pid, SnapshotDepth.Full, out ProcessSnapshot? snapshot) || snapshot.Layout is not { } layout)
        {
            return;
        }

        double seconds = _time.GetElapsedTime(start).TotalSeconds;
        _health.ObserveDuration(SampleDepth.Smaps, seconds);
        target.SmapsBackoff = Adapt(target.SmapsBackoff, seconds, SlowSmapsSeconds, target, "smaps");
        target.NextSmapsTicks = now + (long)(_settings.Sampling.SmapsInterval.TotalMilliseconds * target.SmapsBackoff);

        ulong[] regions = new ulong[RegionKindNames.Count];
        foreach (RegionTotals totals in layout.Regions)
        {
            regions[(int)totals.Kind] = totals.RssBytes;
        }

        long unixMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var reading = new LayoutReading(
            unixMs, regions, layout.ArenaCount + (layout.HasMainArena ? 1 : 0), layout.Allocator.Name, layout.Allocator.DotNetRuntime, seconds);
        RuntimeSample? runtime = RuntimeReads.Read(_fs, _buffer, target, snapshot.Status, _time);
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

    private int Adapt(int backoff, double seconds, double slow, TargetState target, string what)
    {
        if (seconds > slow && backoff < MaxBackoff)
        {
            _log.SlowRead(target.Pid, target.Comm, what, seconds * 1000, backoff * 2);
            return backoff * 2;
        }

        return seconds < slow / 5 && backoff > 1 ? backoff / 2 : backoff;
    }
}
