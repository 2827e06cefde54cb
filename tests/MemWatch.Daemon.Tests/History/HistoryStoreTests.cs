using MemWatch.Daemon.History;

namespace MemWatch.Daemon.Tests.History;

/// <summary>Round-trips through a real SQLite file: samples, verdict changes, audit; restart; PID reuse.</summary>
public sealed class HistoryStoreTests
{
    [Fact]
    public void SamplesRoundTripIncludingMissingAllocatorFigures()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        HistorySample[] tick =
        [
            Samples.At(100, 5000, Samples.Epoch, 64 << 20, inUse: 1.5e6, free: 2.5e6),
            Samples.At(101, 6000, Samples.Epoch, 32 << 20),
            Samples.At(100, 5000, Samples.Epoch.AddSeconds(5), 65 << 20, inUse: double.NaN, free: 7),
        ];
        store.Writer.AppendSamples(tick);

        IReadOnlyList<HistorySample> p100 = store.Reader.LoadSamples(100, 5000, Samples.Epoch.AddHours(-1));
        Assert.Equal([tick[0], tick[2]], p100);
        Assert.True(double.IsNaN(p100[1].AllocatorInUseBytes));
        Assert.Equal(TimeSpan.Zero, p100[0].Resolution);
        Assert.Null(p100[0].PeakRssBytes);
        Assert.Equal([tick[1]], store.Reader.LoadSamples(101, 6000, Samples.Epoch));
        Assert.Equal([tick[2]], store.Reader.LoadSamples(100, 5000, Samples.Epoch.AddSeconds(1)));
        Assert.Empty(store.Reader.LoadSamples(100, 5001, Samples.Epoch));
    }

    /// <summary>The streamed resume hands over the same samples as <see cref="HistoryReader.LoadSamples"/>, oldest first.</summary>
    [Fact]
    public void ResumeHandsOverTheStoredSamplesInOrder()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        store.Writer.AppendSamples(
        [
            Samples.At(100, 5000, Samples.Epoch.AddSeconds(5), 65 << 20, inUse: double.NaN, free: 7),
            Samples.At(100, 5000, Samples.Epoch, 64 << 20, inUse: 1.5e6, free: 2.5e6),
            Samples.At(101, 6000, Samples.Epoch, 32 << 20),
        ]);

        var resumed = new List<MemWatch.Probes.Analysis.MemorySample>();
        Assert.Equal(2, store.Reader.ResumeSamples(100, 5000, Samples.Epoch.AddHours(-1), resumed.Add));
        IReadOnlyList<HistorySample> loaded = store.Reader.LoadSamples(100, 5000, Samples.Epoch.AddHours(-1));
        Assert.Equal(
            loaded.Select(h => new MemWatch.Probes.Analysis.MemorySample(
                h.At.ToUnixTimeMilliseconds(), h.StartTimeTicks, h.RssBytes, h.AnonBytes, h.FileBytes, h.ShmemBytes, h.SwapBytes,
                h.MinorFaults, h.MajorFaults, h.AllocatorInUseBytes, h.AllocatorFreeBytes)),
            resumed);
        Assert.Equal(64UL << 20, resumed[0].RssBytes);
        Assert.True(double.IsNaN(resumed[1].AllocatorInUseBytes));

        Assert.Equal(0, store.Reader.ResumeSamples(100, 5001, Samples.Epoch, resumed.Add));
        Assert.Equal(0, store.Reader.ResumeSamples(100, 5000, Samples.Epoch.AddMinutes(1), resumed.Add));
        Assert.Equal(2, resumed.Count);
    }

    [Fact]
    public void RepeatedSampleForTheSameInstantIsStoredOnce()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        HistorySample s = Samples.At(7, 1, Samples.Epoch, 1 << 20);
        store.Writer.AppendSamples([s]);
        store.Writer.AppendSamples([s with { RssBytes = 2 << 20 }]);

        Assert.Equal([s], store.Reader.LoadSamples(7, 1, Samples.Epoch));
    }

    [Fact]
    public void ReusedPidIsAnotherProcessAndRecentShowsTheLatest()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        DateTimeOffset now = DateTimeOffset.UtcNow;
        DateTimeOffset t0 = DateTimeOffset.FromUnixTimeMilliseconds(now.AddMinutes(-10).ToUnixTimeMilliseconds());
        HistorySample old = Samples.At(4242, 1000, t0, 100 << 20, comm: "old");
        HistorySample young = Samples.At(4242, 9000, t0.AddMinutes(5), 10 << 20, comm: "young");
        store.Writer.AppendSamples([old]);
        store.Writer.RecordVerdictChange(new VerdictChange(4242, 1000, "old", t0, "leak", null, 0.9, "old leaks"));
        store.Writer.AppendSamples([young]);
        store.Writer.RecordVerdictChange(new VerdictChange(4242, 9000, "young", t0.AddMinutes(5), "stable", null, 0.5, "young is stable"));

        Assert.Equal([old], store.Reader.LoadSamples(4242, 1000, t0.AddHours(-1)));
        Assert.Equal([young], store.Reader.LoadSamples(4242, 9000, t0.AddHours(-1)));
        Assert.Equal([young], store.Reader.LoadRecent(4242, TimeSpan.FromHours(1)));
        Assert.Equal("young is stable", Assert.Single(store.Reader.LoadVerdictChanges(4242, 10)).Summary);
        HistoryIncarnation latest = store.Reader.FindLatestIncarnation(4242)!;
        Assert.Equal((9000ul, "young"), (latest.StartTimeTicks, latest.Comm));
        Assert.Equal(young.At, latest.LastSample);
        Assert.Null(store.Reader.FindLatestIncarnation(4243));
        Assert.Empty(store.Reader.LoadRecent(4243, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void SamePidAndStartTimeAfterAnotherBootIsAnotherProcess()
    {
        using var dir = new TempStateDirectory();
        HistorySample before = Samples.At(812, 345, Samples.Epoch, 5 << 20);
        using (HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions { BootId = "boot-a" }))
        {
            store.Writer.AppendSamples([before]);
        }

        using (HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions { BootId = "boot-b" }))
        {
            Assert.Empty(store.Reader.LoadSamples(812, 345, Samples.Epoch.AddDays(-1)));
            HistorySample after = Samples.At(812, 345, Samples.Epoch.AddDays(1), 6 << 20);
            store.Writer.AppendSamples([after]);
            Assert.Equal([after], store.Reader.LoadSamples(812, 345, Samples.Epoch.AddDays(-1)));
        }
    }

    [Fact]
    public void VerdictChangesKeepTheLastOnesInOrder()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        var changes = Enumerable.Range(0, 5)
            .Select(i => new VerdictChange(9, 77, "api", Samples.Epoch.AddMinutes(i), i % 2 == 0 ? "stable" : "allocator-retention", i % 2 == 0 ? null : "glibc-top-chunk", 0.1 * i, $"change {i}"))
            .ToList();
        changes.ForEach(store.Writer.RecordVerdictChange);

        Assert.Equal(changes[2..], store.Reader.LoadVerdictChanges(9, 3));
        Assert.Equal(changes, store.Reader.LoadVerdictChanges(9, 100));
    }

    [Fact]
    public void AuditRoundTripsPerPidAndForAll()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        var a = new AuditEntry(Samples.Epoch, "policy:api", 10, 1, "api", "trim", "released", 900 << 20, 500 << 20, 400 << 20, "malloc_trim(0)");
        var b = new AuditEntry(Samples.Epoch.AddMinutes(1), "token:ops", 11, 2, "db", "trim", "refused", null, null, null, "target is in a syscall");
        var c = a with { At = Samples.Epoch.AddMinutes(2), Result = "failed", ReleasedBytes = -5 };
        store.Writer.AppendAudit(a);
        store.Writer.AppendAudit(b);
        store.Writer.AppendAudit(c);

        Assert.Equal([a, c], store.Reader.LoadAudit(10, 10));
        Assert.Equal([b, c], store.Reader.LoadAudit(null, 2));
        Assert.Empty(store.Reader.LoadAudit(12, 10));
    }

    [Fact]
    public void EverythingSurvivesARestart()
    {
        using var dir = new TempStateDirectory();
        List<HistorySample> series = Samples.Series(300, 42, Samples.Epoch, Samples.Epoch.AddMinutes(10), TimeSpan.FromSeconds(5), t => (ulong)t.Second << 20);
        var verdict = new VerdictChange(300, 42, "worker", Samples.Epoch.AddMinutes(3), "leak", "malloc", 0.8, "grows 1 MiB/min, allocator in-use grows too");
        var audit = new AuditEntry(Samples.Epoch.AddMinutes(4), "policy:default", 300, 42, "worker", "trim", "released", 10, 5, 5, "");
        using (HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions()))
        {
            Samples.AppendInTicks(store, series, perBatch: 7);
            store.Writer.RecordVerdictChange(verdict);
            store.Writer.AppendAudit(audit);
        }

        Assert.False(File.Exists(dir.DatabasePath + "-wal") && new FileInfo(dir.DatabasePath + "-wal").Length > 0, "closing checkpoints the WAL");
        using (HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions()))
        {
            Assert.Equal(series, store.Reader.LoadSamples(300, 42, Samples.Epoch));
            Assert.Equal([verdict], store.Reader.LoadVerdictChanges(300, 10));
            Assert.Equal([audit], store.Reader.LoadAudit(300, 10));

            // The writer keeps working on the reopened file, with the same process row.
            HistorySample next = Samples.At(300, 42, Samples.Epoch.AddMinutes(10), 1 << 20);
            store.Writer.AppendSamples([next]);
            Assert.Equal(series.Count + 1, store.Reader.LoadSamples(300, 42, Samples.Epoch).Count);
        }

        using HistoryStore reader = HistoryStore.OpenReadOnly(dir.Path);
        Assert.True(reader.IsReadOnly);
        Assert.Equal(series.Count + 1, reader.Reader.LoadSamples(300, 42, Samples.Epoch).Count);
        Assert.Throws<InvalidOperationException>(() => reader.Writer.AppendAudit(audit));
    }

    [Fact]
    public void CommChangeByExecKeepsTheIncarnation()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        store.Writer.AppendSamples([Samples.At(5, 50, Samples.Epoch, 1, comm: "sh")]);
        store.Writer.AppendSamples([Samples.At(5, 50, Samples.Epoch.AddSeconds(5), 2, comm: "python3")]);

        IReadOnlyList<HistorySample> loaded = store.Reader.LoadSamples(5, 50, Samples.Epoch);
        Assert.Equal(2, loaded.Count);
        Assert.All(loaded, s => Assert.Equal("python3", s.Comm));
    }

    [Fact]
    public void AbsurdTimesAreRejectedAndNothingOfTheBatchIsStored()
    {
        using var dir = new TempStateDirectory();
        using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
        HistorySample good = Samples.At(1, 1, Samples.Epoch, 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => store.Writer.AppendSamples([good, good with { At = default }]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Writer.AppendSamples([good with { At = DateTimeOffset.UtcNow.AddDays(2) }]));
        Assert.Empty(store.Reader.LoadSamples(1, 1, DateTimeOffset.UnixEpoch));
        store.Writer.AppendSamples([good]);
        Assert.Equal([good], store.Reader.LoadSamples(1, 1, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void InconsistentOptionsAreRejected()
    {
        using var dir = new TempStateDirectory();
        Assert.Throws<ArgumentException>(() => HistoryStore.Open(dir.Path, new HistoryOptions { MinuteResolutionFor = TimeSpan.FromMinutes(10) }));
        Assert.Throws<ArgumentException>(() => HistoryStore.Open(dir.Path, new HistoryOptions { Keep = TimeSpan.FromHours(2) }));
        Assert.Throws<ArgumentException>(() => HistoryStore.Open(dir.Path, new HistoryOptions { MaxBytes = 1000 }));
    }
}
