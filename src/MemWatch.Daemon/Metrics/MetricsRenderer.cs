using System.Reflection;
using MemWatch.Probes.Verdicts;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Runtimes;

namespace MemWatch.Daemon.Metrics;

/// <summary>
/// The /metrics exposition: per-target families (names and labels are the contract in docs/metrics.md) and the
/// daemon's health. Takes each target's published readings once (no lock), then writes family by family.
/// </summary>
internal sealed class MetricsRenderer
{
    private static readonly string[] s_regionNames = Enumerable.Range(0, RegionKindNames.Count).Select(i => ((RegionKind)i).ToName()).ToArray();
    private static readonly LabelSet[] s_depthLabels = DaemonHealth.DepthNames.Select(d => LabelSet.Create(("depth", d))).ToArray();
    private readonly TargetRegistry _registry;
    private readonly DaemonHealth _health;
    private readonly LabelSet _buildLabels;
    private readonly ProcessSelfMetrics _self;

    /// <param name="self">The proc filesystem of the daemon's own process (the real /proc, whatever tree it watches).</param>
    public MetricsRenderer(TargetRegistry registry, DaemonHealth health, MemWatch.Probes.ProcFs.ProcFileSystem self)
    {
        _self = new ProcessSelfMetrics(self);
        _registry = registry;
        _health = health;
        string version = typeof(MetricsRenderer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        _buildLabels = LabelSet.Create(("version", plus > 0 ? version[..plus] : version));
    }

    /// <summary>A target's labels and its readings, each taken once per scrape; no lock is taken.</summary>
    private readonly record struct View(LabelSet Labels, TargetReadings Readings)
    {
        public ProcessCounters Counters => Readings.Counters;
    }

    public void Render(ExpositionWriter w)
    {
        List<TargetState> targets = _registry.Snapshot();
        var views = new View[targets.Count];
        for (int i = 0; i < targets.Count; i++)
        {
            views[i] = new View(targets[i].Labels, targets[i].Readings);
        }

        Gauge(w, views, "memwatch_process_resident_bytes", "Resident set size (VmRSS).", v => v.Counters.RssBytes);
        Gauge(w, views, "memwatch_process_proportional_bytes", "Proportional set size (PSS) from smaps_rollup, refreshed every RollupInterval.", v => v.Readings.PssBytes);
        Gauge(w, views, "memwatch_process_anonymous_bytes", "Resident anonymous memory (RssAnon).", v => v.Counters.AnonBytes);
        Gauge(w, views, "memwatch_process_file_bytes", "Resident file-backed memory (RssFile).", v => v.Counters.FileBytes);
        Gauge(w, views, "memwatch_process_shmem_bytes", "Resident shared memory (RssShmem).", v => v.Counters.ShmemBytes);
        Gauge(w, views, "memwatch_process_swap_bytes", "Swapped-out anonymous memory (VmSwap).", v => v.Counters.SwapBytes);
        Gauge(w, views, "memwatch_process_resident_high_water_bytes", "Peak resident set size (VmHWM).", v => v.Counters.RssHighWaterBytes);

        w.Family("memwatch_process_region_resident_bytes", MetricType.Gauge, "Resident bytes per region kind from the last full smaps read.", "bytes");
        foreach (View v in views)
        {
            if (v.Readings.Layout is { } layout)
            {
                for (int k = 0; k < s_regionNames.Length; k++)
                {
                    w.Sample("memwatch_process_region_resident_bytes", v.Labels, "region", s_regionNames[k], layout.RegionRssBytes[k]);
                }
            }
        }

        w.Family("memwatch_process_glibc_arenas", MetricType.Gauge, "glibc malloc arenas, the main arena included (glibc targets).");
        foreach (View v in views)
        {
            if (v.Readings.Layout is { Allocator: "glibc" } layout)
            {
                w.Sample("memwatch_process_glibc_arenas", v.Labels, layout.Arenas);
            }
        }

        Counter(w, views, "memwatch_process_minor_faults", "Minor page faults since the process started.", v => v.Counters.MinorFaults);
        Counter(w, views, "memwatch_process_major_faults", "Major page faults since the process started.", v => v.Counters.MajorFaults);
        Gauge(w, views, "memwatch_process_cgroup_limit_bytes", "Effective memory limit of the process's cgroup (the smallest of it and its ancestors); absent when unlimited.", v => v.Readings.Cgroup?.EffectiveLimitBytes);
        Gauge(w, views, "memwatch_process_cgroup_usage_bytes", "Memory charged to the process's cgroup.", v => v.Readings.Cgroup?.UsageBytes);
        Counter(w, views, "memwatch_process_cgroup_oom_kills", "OOM kills in the process's cgroup.", v => v.Readings.Cgroup?.OomKills);

        AllocatorGauge(w, views, "memwatch_allocator_in_use_bytes", "Bytes the allocator has handed out and not had back (introspected targets).", a => a.InUseBytes);
        AllocatorGauge(w, views, "memwatch_allocator_free_bytes", "Bytes the allocator holds free (introspected targets).", a => a.FreeBytes);
        AllocatorGauge(w, views, "memwatch_allocator_releasable_bytes", "Bytes a trim would give back to the system, per the allocator or the glibc trim model.", a => a.ReleasableBytes);

        RenderDotNet(w, views);
        RenderRuntimes(w, views);

        w.Family("memwatch_process_injection_quarantined", MetricType.Gauge,
            "1 when MemWatch stopped introspecting and trimming the process: a remote call could not be rolled back after its timeout.");
        foreach (View v in views)
        {
            if (v.Readings.Quarantine is not null)
            {
                w.Sample("memwatch_process_injection_quarantined", v.Labels, 1);
            }
        }

        w.Family("memwatch_process_growth_bytes_per_second", MetricType.Gauge, "RSS trend over the window (Theil-Sen median slope).");
        foreach (View v in views)
        {
            if (v.Readings.Analysis?.GrowthBytesPerSecond is { } g && double.IsFinite(g))
            {
                w.Sample("memwatch_process_growth_bytes_per_second", v.Labels, g);
            }
        }

        w.Family("memwatch_process_seconds_to_limit", MetricType.Gauge, "Forecast seconds until the cgroup (or host) limit; absent when not growing or not established.");
        foreach (View v in views)
        {
            if (v.Readings.Analysis?.Forecast.SecondsToLimit is { } s)
            {
                w.Sample("memwatch_process_seconds_to_limit", v.Labels, s);
            }
        }

        w.Family("memwatch_process_forecast_limit_bytes", MetricType.Gauge, "The limit the forecast is made against: the cgroup's, or the host's MemTotal.", "bytes");
        foreach (View v in views)
        {
            if (v.Readings.Analysis?.Forecast.LimitBytes is { } l && double.IsFinite(l) && l > 0)
            {
                w.Sample("memwatch_process_forecast_limit_bytes", v.Labels, l);
            }
        }

        if (views.Any(v => v.Readings.Analysis?.Verdict is not null))
        {
            w.Family("memwatch_verdict", MetricType.StateSet, "Why the process's memory behaves as it does: 1 for the current kind.");
            foreach (View v in views)
            {
                if (v.Readings.Analysis?.Verdict is { } verdict)
                {
                    w.StateSet("memwatch_verdict", v.Labels, "kind", VerdictKindNames.All, verdict.KindName);
                }
            }

            w.Family("memwatch_verdict_confidence", MetricType.Gauge, "Confidence of the current verdict, 0 to 1.");
            foreach (View v in views)
            {
                if (v.Readings.Analysis?.Verdict is { } verdict)
                {
                    w.Sample("memwatch_verdict_confidence", v.Labels, verdict.Confidence);
                }
            }
        }

        RenderHealth(w);
        w.Finish();
    }

    private void RenderHealth(ExpositionWriter w)
    {
        w.Family("memwatch_remediations", MetricType.Counter, "Remediation actions by action and result.");
        for (int a = 0; a < DaemonHealth.ActionNames.Length; a++)
        {
            for (int r = 0; r < DaemonHealth.ResultNames.Length; r++)
            {
                // Two labels: the action is encoded in a set of its own, the result added as the extra label.
                w.Sample("memwatch_remediations", s_actionLabels[a], "result", DaemonHealth.ResultNames[r],
                    _health.Remediations((RemediationAction)a, (RemediationResult)r));
            }
        }

        w.Family("memwatch_sample_duration_seconds", MetricType.Histogram, "Time to read one target, by depth: status (status+stat), rollup (smaps_rollup+cgroup), smaps (full).", "seconds");
        Span<long> cumulative = stackalloc long[DurationHistogram.DefaultBounds.Length];
        for (int d = 0; d < _health.SampleDurations.Length; d++)
        {
            DurationHistogram h = _health.SampleDurations[d];
            (double sum, long count) = h.Snapshot(cumulative);
            w.Histogram("memwatch_sample_duration_seconds", s_depthLabels[d], h.Bounds, cumulative[..h.Bounds.Length], sum, count);
        }

        w.Family("memwatch_sample_errors", MetricType.Counter, "Failed reads by reason; a process that exits is not an error.");
        for (int r = 0; r < DaemonHealth.ErrorReasonNames.Length; r++)
        {
            w.Sample("memwatch_sample_errors", LabelSet.Empty, "reason", DaemonHealth.ErrorReasonNames[r], _health.Errors((SampleErrorReason)r));
        }

        w.Family("memwatch_targets", MetricType.Gauge, "Processes watched now.");
        w.Sample("memwatch_targets", LabelSet.Empty, _registry.Count);

        w.Family("memwatch_last_sample_timestamp_seconds", MetricType.Gauge, "Unix time of the end of the last complete sampling tick.", "seconds");
        if (_health.LastSampleUnixMilliseconds > 0)
        {
            w.Sample("memwatch_last_sample_timestamp_seconds", LabelSet.Empty, _health.LastSampleUnixMilliseconds / 1000.0);
        }

        w.Family("memwatch_build_info", MetricType.Gauge, "The running memwatch version.");
        w.Sample("memwatch_build_info", _buildLabels, 1);
        _self.Render(w);
    }

    private static readonly string[] s_generationNames = ["gen0", "gen1", "gen2", "loh", "poh"];

    /// <summary>.NET targets whose counters were read (rules with Introspect); nothing for other processes.</summary>
    private static void RenderDotNet(ExpositionWriter w, View[] views)
    {
        Gauge(w, views, "memwatch_dotnet_gc_heap_bytes", "Bytes on the .NET GC heap, live objects and uncollected garbage (gc-heap-size), at the last counter read.", v => v.Readings.DotNet?.Figures.GcHeapBytes);
        Gauge(w, views, "memwatch_dotnet_gc_committed_bytes", "Bytes the .NET GC had committed at its last collection (gc-committed).", v => v.Readings.DotNet?.Figures.GcCommittedBytes);

        w.Family("memwatch_dotnet_gc_generation_bytes", MetricType.Gauge, "Size of each .NET GC generation after the last collection.", "bytes");
        Span<ulong?> sizes = stackalloc ulong?[s_generationNames.Length];
        foreach (View v in views)
        {
            if (v.Readings.DotNet?.Figures is not { } f)
            {
                continue;
            }

            sizes[0] = f.Gen0Bytes;
            sizes[1] = f.Gen1Bytes;
            sizes[2] = f.Gen2Bytes;
            sizes[3] = f.LohBytes;
            sizes[4] = f.PohBytes;
            for (int g = 0; g < sizes.Length; g++)
            {
                if (sizes[g] is { } x)
                {
                    w.Sample("memwatch_dotnet_gc_generation_bytes", v.Labels, "generation", s_generationNames[g], x);
                }
            }
        }

        Gauge(w, views, "memwatch_dotnet_gc_fragmentation_bytes", "Free space inside the .NET GC heap at the last collection.", v => v.Readings.DotNet?.Figures.FragmentationBytes);
        Gauge(w, views, "memwatch_dotnet_gc_allocated_since_last_gc_bytes", "GC heap bytes allocated since the last collection: about what a full GC could free now (an estimate).", v => v.Readings.DotNet?.Figures.AllocatedSinceLastGcBytes);

        w.Family("memwatch_dotnet_allocation_rate_bytes_per_second", MetricType.Gauge, "Managed allocation rate over the last counter interval (alloc-rate).");
        foreach (View v in views)
        {
            if (v.Readings.DotNet?.Figures.AllocationRateBytesPerSecond is { } rate && double.IsFinite(rate))
            {
                w.Sample("memwatch_dotnet_allocation_rate_bytes_per_second", v.Labels, rate);
            }
        }
    }

    /// <summary>Language runtimes' own heap figures (docs/runtimes.md), read passively at each full smaps pass.</summary>
    private static void RenderRuntimes(ExpositionWriter w, View[] views)
    {
        RuntimeGauge(w, views, "memwatch_runtime_heap_used_bytes", "Bytes of objects on the runtime's heap: live or not yet collected (JVM, Go), blocks in use (CPython pymalloc).", f => f.UsedBytes);
        RuntimeGauge(w, views, "memwatch_runtime_heap_committed_bytes", "Bytes the runtime holds for its heap: committed generations (JVM), spans in use and idle (Go), arenas (CPython pymalloc).", f => f.CommittedBytes);
        RuntimeGauge(w, views, "memwatch_runtime_heap_max_bytes", "The heap's maximum as the runtime reports it (JVM: the generations' maximum capacity).", f => f.MaxBytes);
        RuntimeGauge(w, views, "memwatch_runtime_heap_idle_bytes", "Go: idle spans not yet returned to the kernel.", f => f.IdleBytes);
        RuntimeGauge(w, views, "memwatch_runtime_heap_released_bytes", "Go: spans returned to the kernel with madvise.", f => f.ReleasedBytes);
        RuntimeGauge(w, views, "memwatch_runtime_pymalloc_pools_in_use_bytes", "CPython: bytes of the pymalloc pools that hold at least one block.", f => f.PoolsInUseBytes);

        w.Family("memwatch_process_declared_limit_bytes", MetricType.Gauge, "The memory limit the process declares for itself (-Xmx, --max-old-space-size, GOMEMLIMIT, memcached -m, Redis maxmemory); bounds is heap or cache.", "bytes");
        foreach (View v in views)
        {
            if (v.Readings.DeclaredLimit is { } d)
            {
                w.Sample("memwatch_process_declared_limit_bytes", v.Labels, "bounds", d.Bounds, d.Bytes);
            }
        }
    }

    private static void RuntimeGauge(ExpositionWriter w, View[] views, string name, string help, Func<RuntimeHeapFigures, ulong?> value)
    {
        w.Family(name, MetricType.Gauge, help, "bytes");
        foreach (View v in views)
        {
            if (v.Readings.Runtime?.Figures is { } f && value(f) is { } x)
            {
                w.Sample(name, v.Labels, "runtime", f.Runtime.ToName(), x);
            }
        }
    }

    private static readonly LabelSet[] s_actionLabels = DaemonHealth.ActionNames.Select(a => LabelSet.Create(("action", a))).ToArray();

    private static void Gauge(ExpositionWriter w, View[] views, string name, string help, Func<View, ulong?> value)
    {
        w.Family(name, MetricType.Gauge, help, "bytes");
        foreach (View v in views)
        {
            if (value(v) is { } x)
            {
                w.Sample(name, v.Labels, x);
            }
        }
    }

    private static void Counter(ExpositionWriter w, View[] views, string name, string help, Func<View, ulong?> value)
    {
        w.Family(name, MetricType.Counter, help);
        foreach (View v in views)
        {
            if (value(v) is { } x)
            {
                w.Sample(name, v.Labels, x);
            }
        }
    }

    private static void AllocatorGauge(ExpositionWriter w, View[] views, string name, string help, Func<AllocatorReading, ulong?> value)
    {
        w.Family(name, MetricType.Gauge, help, "bytes");
        foreach (View v in views)
        {
            if (v.Readings.Allocator is { } a && value(a) is { } x)
            {
                w.Sample(name, v.Labels, "allocator", a.Allocator, x);
            }
        }
    }
}
