using System.Diagnostics;
using MemWatch.Daemon.History;
using Microsoft.Data.Sqlite;

namespace MemWatch.Daemon.Tests.History;

/// <summary>One writer, readers on their own connections: readers see whole ticks and never hold the writer up.</summary>
public sealed class HistoryConcurrencyTests
{
    private const int PerTick = 200;
    private const int Ticks = 60;

    private static HistorySample[] Tick(int tick) =>
        Enumerable.Range(1, PerTick).Select(pid => Samples.At(pid, 1, Samples.Epoch.AddSeconds(5 * tick), (ulong)tick)).ToArray();

    [Fact]
    public async Task ReadersSeeWholeTicksWhileTheWriterWrites()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore writer = HistoryStore.Open(dir.Path, new HistoryOptions());
        writer.Writer.AppendSamples(Tick(0));
        using HistoryStore reader = HistoryStore.OpenReadOnly(dir.Path);
        using SqliteConnection raw = RawDatabase.Open(dir.DatabasePath, SqliteOpenMode.ReadOnly);

        var totals = new List<long>();
        var perProcess = new List<int>();
        using var done = new CancellationTokenSource();
        using var reading1 = new SemaphoreSlim(0);
        Task reading = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                totals.Add(RawDatabase.Scalar(raw, "SELECT count(*) FROM sample"));
                perProcess.Add(reader.Reader.LoadSamples(PerTick, 1, Samples.Epoch).Count);
                if (perProcess.Count == 1)
                {
                    reading1.Release();
                }
            }
        });

        Assert.True(await reading1.WaitAsync(TimeSpan.FromMinutes(1)), "the reader started");
        for (int t = 1; t < Ticks; t++)
        {
            writer.Writer.AppendSamples(Tick(t));
        }

        done.Cancel();
        await reading.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(Ticks, reader.Reader.LoadSamples(PerTick, 1, Samples.Epoch).Count);

        // One transaction per tick: a reader never sees part of one, and what it sees only grows.
        Assert.All(totals, n => Assert.Equal(0, n % PerTick));
        Assert.Equal(totals.Order(), totals);
        Assert.Equal(perProcess.Order(), perProcess);
    }

    [Fact]
    public void AReaderHoldingASnapshotDoesNotBlockAppendsOrMaintenance()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore writer = HistoryStore.Open(dir.Path, new HistoryOptions());
        writer.Writer.AppendSamples(Tick(0));

        using SqliteConnection raw = RawDatabase.Open(dir.DatabasePath, SqliteOpenMode.ReadOnly);
        using SqliteTransaction snapshot = raw.BeginTransaction(deferred: true);
        long atStart = RawDatabase.Scalar(raw, "SELECT count(*) FROM sample");
        Assert.Equal(PerTick, atStart);

        var clock = Stopwatch.StartNew();
        for (int t = 1; t < Ticks; t++)
        {
            writer.Writer.AppendSamples(Tick(t));
        }

        writer.Retention.Maintain(Samples.Epoch.AddMinutes(5));
        clock.Stop();

        // SQLite would have waited out its busy timeout (10 s) and failed had the reader blocked the writer.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"writer took {clock.Elapsed}");
        Assert.Equal(atStart, RawDatabase.Scalar(raw, "SELECT count(*) FROM sample"));
        snapshot.Commit();
        Assert.Equal(PerTick * Ticks, RawDatabase.Scalar(raw, "SELECT count(*) FROM sample"));
    }
}
