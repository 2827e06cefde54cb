using System.Globalization;
using BenchmarkDotNet.Attributes;
using MemWatch.Daemon.Metrics;
using Prometheus;
using ExpositionFormat = MemWatch.Daemon.Metrics.ExpositionFormat;
using MetricType = MemWatch.Daemon.Metrics.MetricType;

namespace MemWatch.Benchmarks.Metrics;

/// <summary>
/// One /metrics scrape of 300 targets with every per-target family a steady daemon exports for a glibc process under a
/// cgroup limit (8 gauges of status and PSS, 11 regions, arenas, 2 fault counters, 3 cgroup series, growth, forecast
/// limit, an 8-state verdict and its confidence: 36 series a target), written by the daemon's own writer and by
/// prometheus-net 8.2.1 (children made once per target, values set before each collect, as a scrape would).
/// Run: dotnet run -c Release --project tests/MemWatch.Benchmarks -- --filter '*Exposition*'
/// </summary>
[MemoryDiagnoser]
public class ExpositionBenchmarks
{
    private const int Targets = 300;
    private static readonly string[] s_targetLabels = ["pid", "comm", "unit", "container_id", "pod", "namespace", "container"];
    private static readonly string[] s_plain =
    [
        "memwatch_process_resident_bytes", "memwatch_process_proportional_bytes", "memwatch_process_anonymous_bytes",
        "memwatch_process_file_bytes", "memwatch_process_shmem_bytes", "memwatch_process_swap_bytes",
        "memwatch_process_resident_high_water_bytes", "memwatch_process_glibc_arenas", "memwatch_process_cgroup_limit_bytes",
        "memwatch_process_cgroup_usage_bytes", "memwatch_process_growth_bytes_per_second", "memwatch_process_forecast_limit_bytes",
        "memwatch_verdict_confidence",
    ];
    private static readonly string[] s_counters = ["memwatch_process_minor_faults", "memwatch_process_major_faults", "memwatch_process_cgroup_oom_kills"];
    private static readonly string[] s_regions = ["heap", "arena", "mmap-chunk", "allocator-extent", "stack", "gc-heap", "file-code", "file-data", "shmem", "anon", "kernel"];
    private static readonly string[] s_kinds = ["stable", "leak", "allocator-retention", "file-backed-growth", "managed-heap-growth", "unexplained-growth", "shared-memory-growth", "bounded-cache-growth"];

    private readonly LabelSet[] _labels = new LabelSet[Targets];
    private readonly string[][] _labelValues = new string[Targets][];
    private byte[] _buffer = new byte[64 * 1024];
    private long _scrape;

    private CollectorRegistry _registry = null!;
    private Gauge.Child[][] _plainChildren = null!;
    private Counter.Child[][] _counterChildren = null!;
    private Gauge.Child[][] _regionChildren = null!;
    private Gauge.Child[][] _verdictChildren = null!;
    private readonly MemoryStream _stream = new(1 << 20);

    [GlobalSetup]
    public void Setup()
    {
        for (int t = 0; t < Targets; t++)
        {
            string pid = (100_000 + t).ToString(CultureInfo.InvariantCulture);
            _labelValues[t] = [pid, "worker", "app-" + (t % 20).ToString(CultureInfo.InvariantCulture) + ".service", "", "", "", ""];
            _labels[t] = LabelSet.Create(("pid", pid), ("comm", "worker"), ("unit", _labelValues[t][2]),
                ("container_id", ""), ("pod", ""), ("namespace", ""), ("container", ""));
        }

        long before = GC.GetTotalMemory(forceFullCollection: true);
        _registry = Prometheus.Metrics.NewCustomRegistry();
        MetricFactory factory = Prometheus.Metrics.WithCustomRegistry(_registry);
        Gauge[] plain = s_plain.Select(n => factory.CreateGauge(n, "help", s_targetLabels)).ToArray();
        Counter[] counters = s_counters.Select(n => factory.CreateCounter(n + "_total", "help", s_targetLabels)).ToArray();
        Gauge region = factory.CreateGauge("memwatch_process_region_resident_bytes", "help", [.. s_targetLabels, "region"]);
        Gauge verdict = factory.CreateGauge("memwatch_verdict", "help", [.. s_targetLabels, "kind"]);
        _plainChildren = new Gauge.Child[Targets][];
        _counterChildren = new Counter.Child[Targets][];
        _regionChildren = new Gauge.Child[Targets][];
        _verdictChildren = new Gauge.Child[Targets][];
        for (int t = 0; t < Targets; t++)
        {
            string[] v = _labelValues[t];
            _plainChildren[t] = plain.Select(g => g.WithLabels(v)).ToArray();
            _counterChildren[t] = counters.Select(c => c.WithLabels(v)).ToArray();
            _regionChildren[t] = s_regions.Select(r => region.WithLabels([.. v, r])).ToArray();
            _verdictChildren[t] = s_kinds.Select(k => verdict.WithLabels([.. v, k])).ToArray();
        }

        // What the library keeps per series between scrapes (the hand-written writer keeps one label set per target).
        PrometheusNet();
        Console.WriteLine($"// prometheus-net: {GC.GetTotalMemory(forceFullCollection: true) - before} bytes held for {Targets} targets' children");
    }

    [Benchmark(Baseline = true)]
    public int HandWritten()
    {
        long s = ++_scrape;
        var w = new ExpositionWriter(ExpositionFormat.PrometheusText, _buffer);
        foreach (string name in s_plain)
        {
            w.Family(name, MetricType.Gauge, "help");
            for (int t = 0; t < Targets; t++)
            {
                w.Sample(name, _labels[t], 1_000_000 + t + s);
            }
        }

        foreach (string name in s_counters)
        {
            w.Family(name, MetricType.Counter, "help");
            for (int t = 0; t < Targets; t++)
            {
                w.Sample(name, _labels[t], 1_000 + t + s);
            }
        }

        w.Family("memwatch_process_region_resident_bytes", MetricType.Gauge, "help");
        for (int t = 0; t < Targets; t++)
        {
            for (int r = 0; r < s_regions.Length; r++)
            {
                w.Sample("memwatch_process_region_resident_bytes", _labels[t], "region", s_regions[r], 4096 * (t + r + s));
            }
        }

        w.Family("memwatch_verdict", MetricType.Gauge, "help");
        for (int t = 0; t < Targets; t++)
        {
            w.StateSet("memwatch_verdict", _labels[t], "kind", s_kinds, s_kinds[(t + s) % s_kinds.Length]);
        }

        w.Finish();
        _buffer = w.Buffer;
        return w.Written.Length;
    }

    [Benchmark]
    public long PrometheusNet()
    {
        long s = ++_scrape;
        for (int t = 0; t < Targets; t++)
        {
            Gauge.Child[] plain = _plainChildren[t];
            for (int i = 0; i < plain.Length; i++)
            {
                plain[i].Set(1_000_000 + t + s);
            }

            Counter.Child[] counters = _counterChildren[t];
            for (int i = 0; i < counters.Length; i++)
            {
                counters[i].IncTo(1_000 + t + s);
            }

            Gauge.Child[] regions = _regionChildren[t];
            for (int r = 0; r < regions.Length; r++)
            {
                regions[r].Set(4096 * (t + r + s));
            }

            Gauge.Child[] kinds = _verdictChildren[t];
            long current = (t + s) % kinds.Length;
            for (int k = 0; k < kinds.Length; k++)
            {
                kinds[k].Set(k == current ? 1 : 0);
            }
        }

        _stream.SetLength(0);
        _registry.CollectAndExportAsTextAsync(_stream).GetAwaiter().GetResult();
        return _stream.Length;
    }
}
