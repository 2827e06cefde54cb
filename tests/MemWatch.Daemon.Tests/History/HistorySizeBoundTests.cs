using MemWatch.Daemon.History;

namespace MemWatch.Daemon.Tests.History;

/// <summary>MaxBytes: the oldest downsampled rows go first, then full-resolution ones; audit only when nothing else is left.</summary>
public sealed class HistorySizeBoundTests
{
    private static readonly DateTimeOffset s_now = Samples.Epoch;

    [Fact]
    public void OldestDownsampledRowsGoFirstAndTheFileShrinksUnderTheBound()
    {
        using var dir = new TempStateDirectory();
        const long maxBytes = 1536 * 1024;
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions { MaxBytes = maxBytes });
        const int processes = 20;

        // 26 hours of one sample a minute for 20 processes: after downsampling, 2 hourly rows, 23 * 60 per-minute rows
        // and 60 full-resolution rows each, about 3 MB.
        var all = new List<HistorySample>();
        for (int pid = 1; pid <= processes; pid++)
        {
            all.AddRange(Samples.Series(pid, (ulong)pid, s_now.AddHours(-26), s_now, TimeSpan.FromMinutes(1), t => (ulong)(t.ToUnixTimeSeconds() * pid)));
        }

        Samples.AppendInTicks(store, all.OrderBy(s => s.At), perBatch: processes);
        var audit = Enumerable.Range(0, 100)
            .Select(i => new AuditEntry(s_now.AddHours(-25).AddMinutes(i), "policy", 1, 1, "worker", "trim", "released", 2, 1, 1, "audit " + i))
            .ToList();
        audit.ForEach(store.Writer.AppendAudit);
        long before = new FileInfo(dir.DatabasePath).Length + new FileInfo(dir.DatabasePath + "-wal").Length;

        HistoryMaintenance done = store.Retention.Maintain(s_now);

        Assert.True(done.BytesBefore > maxBytes, $"the test data ({done.BytesBefore} bytes after downsampling) must exceed the bound");
        Assert.True(done.BytesAfter <= maxBytes, $"{done.BytesAfter} bytes in use after the pass, bound {maxBytes}");
        Assert.True(done.SamplesPrunedForSize > processes * 2, $"pruned {done.SamplesPrunedForSize}");
        Assert.Equal(0, done.AuditEntriesPrunedForSize);
        Assert.True(new FileInfo(dir.DatabasePath).Length <= maxBytes, $"file is {new FileInfo(dir.DatabasePath).Length} bytes (was {before} with its WAL)");

        var rows = Enumerable.Range(1, processes).SelectMany(pid => store.Reader.LoadSamples(pid, (ulong)pid, s_now.AddDays(-2))).ToList();
        Assert.DoesNotContain(rows, r => r.Resolution == TimeSpan.FromHours(1));
        Assert.Equal(processes * 60, rows.Count(r => r.Resolution == TimeSpan.Zero));

        // What is left of the per-minute rows is the newest part: every minute after the oldest one kept, for every process.
        var minutes = rows.Where(r => r.Resolution == TimeSpan.FromMinutes(1)).ToList();
        Assert.NotEmpty(minutes);
        DateTimeOffset oldestKept = minutes.Min(r => r.At);
        int expectedAfterOldest = processes * (int)(s_now.AddHours(-1) - oldestKept.AddMinutes(1)).TotalMinutes;
        Assert.Equal(expectedAfterOldest, minutes.Count(r => r.At > oldestKept));
        Assert.Equal(audit, store.Reader.LoadAudit(null, 1000));
    }

    [Fact]
    public void AuditIsPrunedOnlyWhenNothingElseIsLeftAndStaysAppendOnly()
    {
        using var dir = new TempStateDirectory();
        // An empty database is 13 pages (52 KiB): one per table and index, plus the schema and pointer-map pages.
        const long maxBytes = 256 * 1024;
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions { MaxBytes = maxBytes });
        store.Writer.AppendSamples(Samples.Series(1, 1, s_now.AddMinutes(-10), s_now, TimeSpan.FromSeconds(5), _ => 1 << 20));
        store.Writer.RecordVerdictChange(new VerdictChange(1, 1, "worker", s_now, "leak", null, 0.9, "grows"));
        var audit = Enumerable.Range(0, 2000)
            .Select(i => new AuditEntry(s_now.AddMinutes(i), "policy", 1, 1, "worker", "trim", "released", 2, 1, 1, new string('x', 200) + i))
            .ToList();
        audit.ForEach(store.Writer.AppendAudit);

        HistoryMaintenance done = store.Retention.Maintain(s_now);

        Assert.Equal(120, done.SamplesPrunedForSize);
        Assert.Equal(1, done.VerdictChangesPrunedForSize);
        Assert.InRange(done.AuditEntriesPrunedForSize, 1, audit.Count - 1);
        Assert.True(done.BytesAfter <= maxBytes, $"{done.BytesAfter} bytes in use");
        IReadOnlyList<AuditEntry> kept = store.Reader.LoadAudit(null, 10_000);
        Assert.Equal(audit[^kept.Count..], kept);
        Assert.Equal(audit.Count - done.AuditEntriesPrunedForSize, kept.Count);

        using var raw = RawDatabase.Open(dir.DatabasePath);
        Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => RawDatabase.Execute(raw, "DELETE FROM audit"));
    }
}
