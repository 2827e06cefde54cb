using BenchmarkDotNet.Attributes;
using MemWatch.Probes.Analysis;

namespace MemWatch.Benchmarks.Analysis;

/// <summary>
/// The growth analysis the daemon runs at every rollup (every 30 s per target, so 10 a second for 300 targets), on
/// a window an hour old: 720 samples at 5 s of a noisy, slowly growing process, the steady state of a daemon that has
/// run for an hour (a benchmark of a freshly started daemon sees windows of a few dozen samples). With Windows = 300
/// each call analyses the next of 300 different windows, as the daemon does: analysing one window over and over lets
/// the branch predictor learn its selections, which made the cost look a third of what the daemon pays.
/// Run: dotnet run -c Release --project tests/MemWatch.Benchmarks -- --filter '*GrowthAnalyzer*'
/// </summary>
[MemoryDiagnoser]
public class GrowthAnalyzerBenchmarks
{
    private GrowthAnalyzer _analyzer = null!;
    private SampleWindow[] _windows = null!;
    private int _next;

    [Params(1, 300)]
    public int Windows { get; set; }

    [Params(60, 720)]
    public int Samples { get; set; }

    [Params(2048, 8192)]
    public int MaxPairs { get; set; }

    /// <summary>growing: 10 KiB/s with +-2 MiB of noise; flat: +-64 KiB around a constant, as bench-daemon's history;
    /// resumed: that history followed by a few minutes of an idle process's constant samples, as bench-daemon measures.</summary>
    [Params("growing", "flat", "resumed")]
    public string Shape { get; set; } = "growing";

    [GlobalSetup]
    public void Setup()
    {
        _analyzer = new GrowthAnalyzer(MaxPairs);
        _windows = new SampleWindow[Windows];
        for (int w = 0; w < Windows; w++)
        {
            var window = new SampleWindow(736, TimeSpan.FromHours(1));
            var random = new Random(7 + w);
            ulong minflt = 0;
            for (int i = 0; i < Samples; i++)
            {
                if (Shape == "resumed")
                {
                    // bench-daemon's steady state: an hour of noisy stored history, then the last samples of an idle sleep.
                    bool live = i >= Samples - Samples / 18;
                    ulong stored = (ulong)(2000 * 1024 + random.Next(-64, 64) * 1024);
                    ulong r = live ? 1708 * 1024 : stored, anon = live ? 96 * 1024 : stored / 4096 * 1024;
                    minflt += live ? 0 : (ulong)random.Next(0, 50);
                    window.Add(new MemorySample(1_700_000_000_000 + i * 5000L, 1, r, anon, r - anon, 0, 0, minflt, 0));
                    continue;
                }

                // 200 MiB growing 10 KiB/s, with +-2 MiB of noise, in whole KiB as the kernel reports it.
                ulong rss = Shape == "flat"
                    ? (ulong)(2000 + random.Next(-64, 64)) * 1024
                    : (ulong)(200 * 1024 + i * 50 + random.Next(-2048, 2048)) * 1024;
                minflt += (ulong)random.Next(0, 500);
                window.Add(new MemorySample(1_700_000_000_000 + i * 5000L, 1, rss, rss / 4 * 3 / 1024 * 1024, rss / 4 / 1024 * 1024, 0, 0, minflt, 0));
            }

            _windows[w] = window;
        }
    }

    [Benchmark]
    public WindowGrowth Analyze() => _analyzer.Analyze(_windows[_next++ % _windows.Length]);
}
