using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MemWatch.Daemon.History;

/// <summary>
/// The statement the writer runs for every sample of every target (hundreds a flush): prepared once on the writer's
/// connection and bound by position through SQLitePCL's raw API. Microsoft.Data.Sqlite's command binds each parameter
/// by name on every execution, boxes every value and builds a reader per row: with the garbage collections that
/// followed, that was about a third of a flush. Runs inside whatever transaction the connection has open. Not
/// thread-safe: the store serialises its calls.
/// </summary>
internal sealed class SampleInsert : IDisposable
{
    private const string Sql = """
        INSERT INTO sample (process_id, at_ms, resolution_s, samples, rss, rss_max, anon, file, shmem, swap, minflt, majflt, alloc_in_use, alloc_free, minute)
        VALUES (?1, ?2, 0, 1, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
        ON CONFLICT (minute, process_id, at_ms) DO NOTHING
        """;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public SampleInsert(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the history connection is not open");
        int rc = raw.sqlite3_prepare_v2(_db, Sql, out _statement);
        if (rc != raw.SQLITE_OK)
        {
            _statement.Dispose();
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    /// <summary>Inserts one sample (ignored when its process and time are already stored); throws <see cref="SqliteException"/>.</summary>
    public void Execute(long processId, long atMs, HistorySample s, long minute)
    {
        try
        {
            Check(raw.sqlite3_bind_int64(_statement, 1, processId));
            Check(raw.sqlite3_bind_int64(_statement, 2, atMs));
            Check(raw.sqlite3_bind_int64(_statement, 3, (long)s.RssBytes));
            Check(raw.sqlite3_bind_int64(_statement, 4, (long)s.AnonBytes));
            Check(raw.sqlite3_bind_int64(_statement, 5, (long)s.FileBytes));
            Check(raw.sqlite3_bind_int64(_statement, 6, (long)s.ShmemBytes));
            Check(raw.sqlite3_bind_int64(_statement, 7, (long)s.SwapBytes));
            Check(raw.sqlite3_bind_int64(_statement, 8, (long)s.MinorFaults));
            Check(raw.sqlite3_bind_int64(_statement, 9, (long)s.MajorFaults));
            Check(BindReal(10, s.AllocatorInUseBytes));
            Check(BindReal(11, s.AllocatorFreeBytes));
            Check(raw.sqlite3_bind_int64(_statement, 12, minute));
            int rc = raw.sqlite3_step(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                // Thrown before the reset so that the connection's error message is this step's.
                SqliteException.ThrowExceptionForRC(rc, _db);
            }
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    // Stored as NULL when not measured, as the allocator figures are for most samples.
    private int BindReal(int index, double value) =>
        double.IsNaN(value) ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_double(_statement, index, value);

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
