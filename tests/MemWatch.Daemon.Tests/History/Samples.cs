using MemWatch.Daemon.History;

namespace MemWatch.Daemon.Tests.History;

/// <summary>Synthetic samples whose values are derived from their time, so tests can predict averages.</summary>
internal static class Samples
{
    /// <summary>A time on an hour boundary, a few days back, at millisecond precision (what the store keeps).</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    public static HistorySample At(int pid, ulong start, DateTimeOffset at, ulong rss, string comm = "worker", double inUse = double.NaN, double free = double.NaN) =>
        new(pid, start, comm, at, rss, rss / 2, rss / 4, 4096, 0, (ulong)at.ToUnixTimeSeconds(), 3, inUse, free);

    /// <summary>Samples every <paramref name="interval"/> from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive).</summary>
    public static List<HistorySample> Series(int pid, ulong start, DateTimeOffset from, DateTimeOffset to, TimeSpan interval, Func<DateTimeOffset, ulong> rss)
    {
        var list = new List<HistorySample>();
        for (DateTimeOffset t = from; t < to; t += interval)
        {
            list.Add(At(pid, start, t, rss(t)));
        }

        return list;
    }

    public static void AppendInTicks(HistoryStore store, IEnumerable<HistorySample> samples, int perBatch = 2000)
    {
        foreach (HistorySample[] chunk in samples.Chunk(perBatch))
        {
            store.Writer.AppendSamples(chunk);
        }
    }
}
