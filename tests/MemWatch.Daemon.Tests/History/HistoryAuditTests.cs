using MemWatch.Daemon.History;
using Microsoft.Data.Sqlite;

namespace MemWatch.Daemon.Tests.History;

/// <summary>The audit log is append-only in the file itself, whoever opens it.</summary>
public sealed class HistoryAuditTests
{
    [Fact]
    public void UpdateAndDeleteAreRefusedByTheDatabase()
    {
        using var dir = new TempStateDirectory();
        var entry = new AuditEntry(Samples.Epoch, "token:ops", 3, 30, "api", "trim", "released", 100, 50, 50, "");
        using (HistoryStore store = HistoryStore.Open(dir.Path, new HistoryOptions()))
        {
            store.Writer.AppendAudit(entry);
        }

        using (SqliteConnection raw = RawDatabase.Open(dir.DatabasePath))
        {
            var update = Assert.Throws<SqliteException>(() => RawDatabase.Execute(raw, "UPDATE audit SET result = 'failed'"));
            Assert.Contains("append-only", update.Message);
            var delete = Assert.Throws<SqliteException>(() => RawDatabase.Execute(raw, "DELETE FROM audit WHERE pid = 3"));
            Assert.Contains("append-only", delete.Message);
            Assert.Equal(1, RawDatabase.Scalar(raw, "SELECT count(*) FROM audit"));
        }

        using HistoryStore reopened = HistoryStore.Open(dir.Path, new HistoryOptions());
        Assert.Equal([entry], reopened.Reader.LoadAudit(3, 10));
    }
}
