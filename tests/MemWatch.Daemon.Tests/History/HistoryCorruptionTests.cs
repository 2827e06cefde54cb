using MemWatch.Daemon.History;

namespace MemWatch.Daemon.Tests.History;

/// <summary>Corrupt, foreign, newer, missing, locked or full databases: a clear error, and the daemon can start fresh.</summary>
public sealed class HistoryCorruptionTests
{
    [Fact]
    public void AFileThatIsNotADatabaseIsReportedAndCanBeMovedAside()
    {
        using var dir = new TempStateDirectory();
        byte[] garbage = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("this is not sqlite ", 500)));
        File.WriteAllBytes(dir.DatabasePath, garbage);

        var e = Assert.Throws<HistoryStoreException>(() => HistoryStore.Open(dir.Path, new HistoryOptions()));
        Assert.Equal(HistoryFailure.Corrupt, e.Failure);
        Assert.Contains(dir.DatabasePath, e.Message);
        Assert.Equal(HistoryFailure.Corrupt, Assert.Throws<HistoryStoreException>(() => HistoryStore.OpenReadOnly(dir.Path)).Failure);

        using (HistoryStore fresh = HistoryStore.OpenOrStartFresh(dir.Path, new HistoryOptions(), out string? movedTo))
        {
            Assert.NotNull(movedTo);
            Assert.StartsWith(dir.DatabasePath + ".corrupt-", movedTo);
            Assert.Equal(garbage, File.ReadAllBytes(movedTo));
            fresh.Writer.AppendSamples([Samples.At(1, 1, Samples.Epoch, 1)]);
        }

        using HistoryStore reopened = HistoryStore.OpenOrStartFresh(dir.Path, new HistoryOptions(), out string? second);
        Assert.Null(second);
        Assert.Single(reopened.Reader.LoadSamples(1, 1, Samples.Epoch));
    }

    /// <summary>
    /// On a real, full file system (a 512 KiB tmpfs): writing samples fails with a clear error, nothing of the failed
    /// batch is kept, and once there is room the same store goes on writing.
    /// </summary>
    [Fact]
    public void AFullDiskIsReportedAndTheStoreGoesOnOnceThereIsRoom()
    {
        using var dir = new TempStateDirectory();
        Run("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir.Path);
        try
        {
            using HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions());
            int stored = 0;
            HistoryStoreException? full = null;
            for (int batch = 0; batch < 1000 && full is null; batch++)
            {
                List<HistorySample> tick = Enumerable.Range(1, 300)
                    .Select(pid => Samples.At(pid, 1, Samples.Epoch.AddSeconds(5 * batch), (ulong)(batch * 1000 + pid)))
                    .ToList();
                try
                {
                    store.Writer.AppendSamples(tick);
                    stored++;
                }
                catch (HistoryStoreException e)
                {
                    full = e;
                }
            }

            Assert.NotNull(full);
            Assert.Equal(HistoryFailure.Unavailable, full.Failure);
            Assert.True(full.Message.Contains("full", StringComparison.OrdinalIgnoreCase), full.Message);
            Assert.Contains(dir.DatabasePath, full.Message);

            Run("mount", "-o", "remount,size=16m", dir.Path);
            store.Writer.AppendSamples([Samples.At(1, 1, Samples.Epoch.AddSeconds(5 * stored), 42)]);
            IReadOnlyList<HistorySample> kept = store.Reader.LoadSamples(1, 1, Samples.Epoch);
            Assert.Equal(stored + 1, kept.Count);
            Assert.Equal(42UL, kept[^1].RssBytes);
        }
        finally
        {
            Run("umount", "-l", dir.Path);
        }
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program, arguments) { RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {error}");
    }

    [Fact]
    public void DamagedPagesAreFoundWhenOpening()
    {
        using var dir = new TempStateDirectory();
        using (HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions()))
        {
            Samples.AppendInTicks(store, Samples.Series(1, 1, Samples.Epoch, Samples.Epoch.AddHours(2), TimeSpan.FromSeconds(5), t => (ulong)t.Ticks));
        }

        // Keep the header page, overwrite the middle of the file (b-tree pages of the samples and their indexes).
        long length = new FileInfo(dir.DatabasePath).Length;
        Assert.True(length > 16 * 4096, $"database is {length} bytes");
        using (var f = new FileStream(dir.DatabasePath, FileMode.Open, FileAccess.Write))
        {
            f.Position = 4 * 4096;
            f.Write(Enumerable.Repeat((byte)0x5a, 8 * 4096).ToArray());
        }

        var e = Assert.Throws<HistoryStoreException>(() => HistoryStore.Open(dir.Path, new HistoryOptions()));
        Assert.Equal(HistoryFailure.Corrupt, e.Failure);

        using HistoryStore fresh = HistoryStore.OpenOrStartFresh(dir.Path, new HistoryOptions(), out string? movedTo);
        Assert.True(File.Exists(movedTo));
        Assert.Empty(fresh.Reader.LoadSamples(1, 1, Samples.Epoch));
    }

    [Fact]
    public void AnotherSqliteDatabaseIsNotTakenForAHistory()
    {
        using var dir = new TempStateDirectory();
        using (var raw = RawDatabase.Open(dir.DatabasePath, Microsoft.Data.Sqlite.SqliteOpenMode.ReadWriteCreate))
        {
            RawDatabase.Execute(raw, "CREATE TABLE something_else (x)");
        }

        Assert.Equal(HistoryFailure.Corrupt, Assert.Throws<HistoryStoreException>(() => HistoryStore.Open(dir.Path, new HistoryOptions())).Failure);
    }

    [Fact]
    public void ANewerSchemaIsRefusedAndLeftAlone()
    {
        using var dir = new TempStateDirectory();
        HistoryStore.Open(dir.Path, new HistoryOptions()).Dispose();
        using (var raw = RawDatabase.Open(dir.DatabasePath))
        {
            RawDatabase.Execute(raw, "PRAGMA user_version = 99");
        }

        var e = Assert.Throws<HistoryStoreException>(() => HistoryStore.OpenOrStartFresh(dir.Path, new HistoryOptions(), out _));
        Assert.Equal(HistoryFailure.NewerSchema, e.Failure);
        Assert.Contains("99", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.corrupt-*"));
    }

    [Fact]
    public void ASecondWriterIsRefusedWhileTheFirstHoldsTheLock()
    {
        using var dir = new TempStateDirectory();
        using (HistoryStore first = HistoryStore.Open(dir.Path, new HistoryOptions()))
        {
            var e = Assert.Throws<HistoryStoreException>(() => HistoryStore.Open(dir.Path, new HistoryOptions()));
            Assert.Equal(HistoryFailure.Locked, e.Failure);
            Assert.Contains("another memwatch daemon", e.Message);
            Assert.Equal(HistoryFailure.Locked, Assert.Throws<HistoryStoreException>(() => HistoryStore.MoveAside(dir.Path)).Failure);
            Assert.Equal(HistoryFailure.Locked, Assert.Throws<HistoryStoreException>(() => HistoryStore.OpenOrStartFresh(dir.Path, new HistoryOptions(), out _)).Failure);

            // Readers are not writers: they open alongside.
            using HistoryStore reader = HistoryStore.OpenReadOnly(dir.Path);
            first.Writer.AppendSamples([Samples.At(1, 1, Samples.Epoch, 1)]);
            Assert.Single(reader.Reader.LoadSamples(1, 1, Samples.Epoch));
        }

        HistoryStore.Open(dir.Path, new HistoryOptions()).Dispose();
        string moved = HistoryStore.MoveAside(dir.Path)!;
        Assert.Equal(moved, Directory.GetFiles(dir.Path, HistoryStore.FileName + ".corrupt-*").Single());
        Assert.False(File.Exists(dir.DatabasePath));
    }

    [Fact]
    public void AReaderOfADirectoryWithoutHistorySaysSo()
    {
        using var dir = new TempStateDirectory();
        var e = Assert.Throws<HistoryStoreException>(() => HistoryStore.OpenReadOnly(dir.Path));
        Assert.Equal(HistoryFailure.Missing, e.Failure);
        Assert.False(File.Exists(dir.DatabasePath), "a reader creates nothing");
    }

    [Fact]
    public void AnUnwritableStateDirectoryIsReported()
    {
        using var dir = new TempStateDirectory();
        string notADirectory = Path.Combine(dir.Path, "file");
        File.WriteAllText(notADirectory, "");

        var e = Assert.Throws<HistoryStoreException>(() => HistoryStore.Open(Path.Combine(notADirectory, "state"), new HistoryOptions()));
        Assert.Equal(HistoryFailure.Unavailable, e.Failure);
    }
}
