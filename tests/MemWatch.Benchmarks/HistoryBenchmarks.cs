using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using MemWatch.Daemon.History;

namespace MemWatch.Benchmarks;

/// <summary>
/// The history store at the scale of issue 5 (500 targets sampled every 5 s): (a) one tick's AppendSamples into a
/// database already holding two hours of such ticks; (b) LoadSamples of one target's last hour (what a restarted daemon
/// reads per target to resume its trend). Setup prints one-off figures: database size per row, a Maintain pass that
/// folds an hour into minutes, one five minutes later (steady state), and Open (which runs quick_check) of that file.
/// </summary>
[MemoryDiagnoser]
public class HistoryBenchmarks
{
    private const int Targets = 500;
    private static readonly DateTimeOffset s_start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly HistorySample[] _tick = new HistorySample[Targets];
    private readonly string[] _comms = [.. Enumerable.Range(0, Targets).Select(i => "worker-" + i)];
    private string _dir = "";
    private HistoryStore? _store;
    private int _tickNumber;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("memwatch-history-bench-").FullName;
        _store = HistoryStore.Open(_dir, new HistoryOptions());
        var fill = Stopwatch.StartNew();
        for (_tickNumber = 0; _tickNumber < 2 * 720; _tickNumber++)
        {
            _store.Writer.AppendSamples(NextTick());
        }

        fill.Stop();
        long rawBytes = new FileInfo(Path.Combine(_dir, HistoryStore.FileName)).Length + WalBytes();
        var maintain = Stopwatch.StartNew();
        HistoryMaintenance done = _store.Retention.Maintain(Now());
        maintain.Stop();

        // Steady state: a pass five minutes later folds only the minutes that aged meanwhile.
        for (int i = 0; i < 60; i++, _tickNumber++)
        {
            _store.Writer.AppendSamples(NextTick());
        }

        var steady = Stopwatch.StartNew();
        HistoryMaintenance next = _store.Retention.Maintain(Now());
        steady.Stop();
        _store.Dispose();

        var open = Stopwatch.StartNew();
        _store = HistoryStore.Open(_dir, new HistoryOptions());
        open.Stop();
        Console.WriteLine($"// history: filled {2 * 720} ticks x {Targets} targets in {fill.Elapsed.TotalSeconds:0.0} s; "
            + $"{rawBytes / (2 * 720.0 * Targets):0} bytes per full-resolution row (file + WAL)");
        Console.WriteLine($"// history: Maintain folded {done.RowsToMinute} rows into {done.MinuteRowsWritten} in {maintain.Elapsed.TotalMilliseconds:0} ms; "
            + $"pages in use {done.BytesBefore / 1048576.0:0.0} -> {done.BytesAfter / 1048576.0:0.0} MiB");
        Console.WriteLine($"// history: 5 minutes later Maintain folded {next.RowsToMinute} rows into {next.MinuteRowsWritten} in {steady.Elapsed.TotalMilliseconds:0} ms");
        Console.WriteLine($"// history: Open with quick_check of a {new FileInfo(Path.Combine(_dir, HistoryStore.FileName)).Length / 1048576.0:0.0} MiB file in {open.Elapsed.TotalMilliseconds:0} ms");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>What the caller spends building the tick's 500 samples (included in the append figures).</summary>
    [Benchmark(Baseline = true)]
    public int BuildTickOnly() => NextTick(_tickNumber).Length;

    [Benchmark]
    public void AppendTickOf500Targets() => _store!.Writer.AppendSamples(NextTick(_tickNumber++));

    [Benchmark]
    public int LoadLastHourOfOneTarget() => _store!.Reader.LoadSamples(250, 250_000, Now().AddHours(-1)).Count;

    private DateTimeOffset Now() => s_start.AddSeconds(5 * _tickNumber);

    private long WalBytes()
    {
        var wal = new FileInfo(Path.Combine(_dir, HistoryStore.FileName + "-wal"));
        return wal.Exists ? wal.Length : 0;
    }

    private HistorySample[] NextTick() => NextTick(_tickNumber);

    private HistorySample[] NextTick(int tick)
    {
        DateTimeOffset at = s_start.AddSeconds(5 * tick);
        for (int i = 0; i < Targets; i++)
        {
            ulong rss = (ulong)(200 + i + tick % 17) << 20;
            _tick[i] = new HistorySample(i + 1, (ulong)(i + 1) * 1000, _comms[i], at, rss, rss * 3 / 4, rss / 4, 1 << 20, 0,
                (ulong)(tick * 37 + i), (ulong)(tick / 100), i % 5 == 0 ? rss * 0.6 : double.NaN, i % 5 == 0 ? rss * 0.3 : double.NaN);
        }

        return _tick;
    }
}
