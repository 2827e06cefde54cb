using MemWatch.Daemon.History;

namespace MemWatch.Daemon.Tests.History;

/// <summary>Downsampling by age with synthetic timestamps: exact row counts per resolution, averages, kept maxima.</summary>
public sealed class HistoryDownsamplingTests
{
    private const ulong Base = 100 << 20;
    private const ulong HourSpike = 5UL << 30;
    private const ulong MinuteSpike = 3UL << 30;
    private static readonly DateTimeOffset s_now = Samples.Epoch;
    private static readonly DateTimeOffset s_hourSpikeAt = s_now.AddHours(-27).AddMinutes(17).AddSeconds(35);
    private static readonly DateTimeOffset s_minuteSpikeAt = s_now.AddHours(-5).AddSeconds(10);
    private static readonly TimeSpan s_tick = TimeSpan.FromSeconds(5);

    /// <summary>30 hours of 5-second samples ending just before <see cref="s_now"/> (an hour boundary), with two spikes.</summary>
    private static List<HistorySample> ThirtyHours()
    {
        List<HistorySample> series = Samples.Series(1, 10, s_now.AddHours(-30), s_now, s_tick,
            t => t == s_hourSpikeAt ? HourSpike : t == s_minuteSpikeAt ? MinuteSpike : Base);

        // Introspected for half of one minute: the average is over the introspected samples only.
        for (int i = 0; i < series.Count; i++)
        {
            TimeSpan sinceMinute = series[i].At - s_minuteSpikeAt.AddSeconds(-10);
            if (sinceMinute >= TimeSpan.Zero && sinceMinute < TimeSpan.FromSeconds(30))
            {
                series[i] = series[i] with { AllocatorInUseBytes = 1000 + sinceMinute.TotalSeconds, AllocatorFreeBytes = 10 };
            }
        }

        return series;
    }

    private static Dictionary<TimeSpan, int> CountByResolution(IEnumerable<HistorySample> rows) =>
        rows.GroupBy(r => r.Resolution).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public void FullResolutionThenMinutesThenHours()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        Samples.AppendInTicks(store, ThirtyHours());

        HistoryMaintenance done = store.Retention.Maintain(s_now);

        Assert.Equal((6 * 720, 6L), (done.RowsToHour, done.HourRowsWritten));
        Assert.Equal((23 * 720, 23 * 60L), (done.RowsToMinute, done.MinuteRowsWritten));
        Assert.Equal(0, done.SamplesExpired + done.SamplesPrunedForSize + done.AuditEntriesPrunedForSize);

        IReadOnlyList<HistorySample> rows = store.Reader.LoadSamples(1, 10, s_now.AddDays(-2));
        Assert.Equal(6 + 1380 + 720, rows.Count);
        Assert.Equal(
            new Dictionary<TimeSpan, int> { [TimeSpan.FromHours(1)] = 6, [TimeSpan.FromMinutes(1)] = 1380, [TimeSpan.Zero] = 720 },
            CountByResolution(rows));
        Assert.Equal(s_now.AddHours(-30), rows[0].At);
        Assert.Equal(s_now.AddHours(-24), rows[6].At);
        Assert.Equal(s_now.AddHours(-1), rows[6 + 1380].At);
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.At < p.Second.At), "oldest first");

        // The hour holding the 5 GiB spike: average over its 720 samples, the spike kept as its peak.
        HistorySample hour = rows.Single(r => r.At == s_now.AddHours(-27));
        Assert.Equal(HourSpike, hour.PeakRssBytes);
        Assert.Equal((ulong)Math.Round((719.0 * Base + HourSpike) / 720), hour.RssBytes);
        Assert.Equal((ulong)s_now.AddHours(-26).Add(-s_tick).ToUnixTimeSeconds(), hour.MinorFaults);
        Assert.All(rows.Where(r => r.Resolution > TimeSpan.Zero && r.At != hour.At && r.At != s_minuteSpikeAt.AddSeconds(-10)),
            r => Assert.Equal((Base, Base), (r.RssBytes, r.PeakRssBytes!.Value)));

        HistorySample minute = rows.Single(r => r.At == s_minuteSpikeAt.AddSeconds(-10));
        Assert.Equal(MinuteSpike, minute.PeakRssBytes);
        Assert.Equal((ulong)Math.Round((11.0 * Base + MinuteSpike) / 12), minute.RssBytes);
        Assert.Equal(1000 + (0 + 5 + 10 + 15 + 20 + 25) / 6.0, minute.AllocatorInUseBytes, 9);
        Assert.Equal(10, minute.AllocatorFreeBytes);
        Assert.All(rows.Where(r => r.At != minute.At), r => Assert.True(double.IsNaN(r.AllocatorInUseBytes)));

        // A second pass at the same time has nothing to do.
        HistoryMaintenance again = store.Retention.Maintain(s_now);
        Assert.Equal(0, again.RowsToHour + again.HourRowsWritten + again.RowsToMinute + again.MinuteRowsWritten + again.SamplesExpired);
        Assert.Equal(rows, store.Reader.LoadSamples(1, 10, s_now.AddDays(-2)));
    }

    [Fact]
    public void LaterPassesMoveTheBoundariesAndMergeLateSamples()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        Samples.AppendInTicks(store, ThirtyHours());
        store.Retention.Maintain(s_now);

        // A sample that arrives late for a minute already folded merges into that minute's row.
        DateTimeOffset lateMinute = s_now.AddHours(-3);
        store.Writer.AppendSamples([Samples.At(1, 10, lateMinute.AddSeconds(31), 2 * Base)]);
        HistoryMaintenance later = store.Retention.Maintain(s_now.AddHours(2));

        Assert.Equal((120 + 0L, 2L), (later.RowsToHour, later.HourRowsWritten));
        // 60 new minutes from the last full-resolution hour, plus the late sample merged into its existing minute.
        Assert.Equal((720 + 1L, 60 + 1L), (later.RowsToMinute, later.MinuteRowsWritten));
        IReadOnlyList<HistorySample> rows = store.Reader.LoadSamples(1, 10, s_now.AddDays(-2));
        Assert.Equal(
            new Dictionary<TimeSpan, int> { [TimeSpan.FromHours(1)] = 8, [TimeSpan.FromMinutes(1)] = 1380 - 120 + 60 },
            CountByResolution(rows));
        HistorySample merged = rows.Single(r => r.At == lateMinute);
        Assert.Equal((ulong)Math.Round((12.0 * Base + 2 * Base) / 13), merged.RssBytes);
        Assert.Equal(2 * Base, merged.PeakRssBytes);
    }

    [Fact]
    public void RowsOlderThanKeepAreDeletedButAuditStays()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        Samples.AppendInTicks(store, ThirtyHours());
        store.Writer.RecordVerdictChange(new VerdictChange(1, 10, "worker", s_now.AddHours(-29), "leak", null, 0.7, "old verdict"));
        store.Writer.RecordVerdictChange(new VerdictChange(1, 10, "worker", s_now.AddHours(-2), "stable", null, 0.7, "recent verdict"));
        var audit = new AuditEntry(s_now.AddHours(-29), "policy", 1, 10, "worker", "trim", "released", 2, 1, 1, "");
        store.Writer.AppendAudit(audit);

        // Keep ends 4 hours before now: everything is hourly by then, and only the last 4 hours remain.
        HistoryMaintenance done = store.Retention.Maintain(s_now.AddDays(7).AddHours(-4));

        Assert.Equal(30 - 4, done.SamplesExpired);
        Assert.Equal(1, done.VerdictChangesExpired);
        IReadOnlyList<HistorySample> rows = store.Reader.LoadSamples(1, 10, s_now.AddDays(-2));
        Assert.Equal([s_now.AddHours(-4), s_now.AddHours(-3), s_now.AddHours(-2), s_now.AddHours(-1)], rows.Select(r => r.At));
        Assert.All(rows, r => Assert.Equal(TimeSpan.FromHours(1), r.Resolution));
        Assert.Equal("recent verdict", Assert.Single(store.Reader.LoadVerdictChanges(1, 10)).Summary);
        Assert.Equal([audit], store.Reader.LoadAudit(1, 10));

        // Past Keep for everything: the process row goes too, the audit stays.
        store.Retention.Maintain(s_now.AddDays(8));
        Assert.Null(store.Reader.FindLatestIncarnation(1));
        Assert.Equal([audit], store.Reader.LoadAudit(1, 10));
    }
}
