using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.ProcFs;
using Microsoft.Extensions.Logging.Abstractions;

namespace MemWatch.Benchmarks.Daemon;

/// <summary>
/// One steady-state sampler tick over 300 watched processes (sleep children) plus everything else in /proc: the walk,
/// status of every process, stat of every target, window updates. Deep reads are pushed out of the measurement by
/// long rollup and smaps intervals, so this is the cost paid every Interval. Divide by 300 for the cost per target.
/// Run: dotnet run -c Release --project tests/MemWatch.Benchmarks -- --filter '*Sampler*'
/// </summary>
[MemoryDiagnoser]
public class SamplerBenchmarks
{
    public const int Targets = 300;
    private readonly List<Process> _children = [];
    private Sampler _sampler = null!;
    private TargetRegistry _registry = null!;
    private MetricsRenderer _renderer = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < Targets; i++)
        {
            _children.Add(Process.Start(new ProcessStartInfo("sleep", "3599.5") { UseShellExecute = false })!);
        }

        DaemonSettings settings = DaemonConfigurationLoader.Validate(
            new DaemonOptions
            {
                Sampling = new SamplingOptions
                {
                    Interval = TimeSpan.FromSeconds(5),
                    RollupInterval = TimeSpan.FromDays(1),
                    SmapsInterval = TimeSpan.FromDays(1),
                    Window = TimeSpan.FromHours(1),
                },
                Targets = [new TargetOptions { Name = "bench", Cmdline = "^sleep 3599\\.5$" }],
            },
            null);
        _registry = new TargetRegistry();
        var health = new DaemonHealth();
        _sampler = new Sampler(ProcFileSystem.Default, settings, _registry, health,
            new TargetAnalyzer(ProcFileSystem.Default, NullLogger<TargetAnalyzer>.Instance), new NullSampleSink(), NullLogger<Sampler>.Instance, TimeProvider.System);
        _renderer = new MetricsRenderer(_registry, health, ProcFileSystem.Default);

        // The first ticks discover the targets and do their first deep reads.
        _sampler.Tick();
        _sampler.Tick();
        if (_registry.Count != Targets)
        {
            throw new InvalidOperationException($"watching {_registry.Count} processes, expected {Targets}");
        }
    }

    [Benchmark]
    public void Tick() => _sampler.Tick();

    [Benchmark]
    public int RenderMetrics()
    {
        var writer = new ExpositionWriter(ExpositionFormat.PrometheusText);
        _renderer.Render(writer);
        return writer.Written.Length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (Process p in _children)
        {
            p.Kill();
            p.WaitForExit();
            p.Dispose();
        }
    }
}
