using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MemWatch.Daemon.History;

/// <summary>
/// The one SQLite connection of a <see cref="HistoryStore"/> and what its writer, reader and retention share: calls
/// serialised on one lock, transactions, SQLite errors translated into <see cref="HistoryStoreException"/>, and the
/// (pid, starttime) to process-row cache that a rollback or a pruning pass invalidates.
/// </summary>
internal sealed class HistoryDatabase : IDisposable
{
    internal const long MinuteMs = 60_000;
    internal const long HourMs = 3_600_000;

    private readonly Lock _gate = new();
    private bool _disposed;

    public HistoryDatabase(SqliteConnection connection, string path, string bootId, TimeProvider time)
    {
        Connection = connection;
        Path = path;
        BootId = bootId;
        Time = time;
    }

    public SqliteConnection Connection { get; }

    public string Path { get; }

    /// <summary>This boot: starttime counts from boot, so the same pid and starttime after a reboot is another process.</summary>
    public string BootId { get; }

    public TimeProvider Time { get; }

    /// <summary>(pid, starttime) to process row id and the comm stored there; cleared whenever rows may have gone.</summary>
    public Dictionary<(int Pid, ulong StartTimeTicks), (long Id, string Comm)> Processes { get; } = [];

    public static long Minute(long ms) => Math.DivRem(ms, MinuteMs) is var (q, r) && r < 0 ? q - 1 : q;

    public static long AlignDown(long ms, long bucket) => ms - (((ms % bucket) + bucket) % bucket);

    public static long Scalar(SqliteConnection db, string sql)
    {
        using SqliteCommand c = Command(db, null, sql);
        return Convert.ToInt64(c.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static SqliteCommand Command(SqliteConnection db, SqliteTransaction? tx, string sql)
    {
        SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        c.Transaction = tx;
        return c;
    }

    /// <summary>Runs a statement; <paramref name="value"/>, when given, binds <c>$value</c> (a time cutoff or a row count).</summary>
    public static int Execute(SqliteConnection db, SqliteTransaction? tx, string sql, long? value)
    {
        using SqliteCommand c = Command(db, tx, sql);
        if (value is { } v)
        {
            c.Parameters.AddWithValue("$value", v);
        }

        return c.ExecuteNonQuery();
    }

    public static HistoryStoreException Translate(SqliteException e, string path)
    {
        // Primary result codes: https://sqlite.org/rescode.html
        (HistoryFailure failure, string what) = (e.SqliteErrorCode & 0xff) switch
        {
            11 or 26 => (HistoryFailure.Corrupt, "is corrupt or not a database"),
            5 or 6 => (HistoryFailure.Locked, "stayed locked by another connection"),
            _ => (HistoryFailure.Unavailable, "cannot be used"),
        };
        return new HistoryStoreException(failure, path, $"history database {path} {what}: {e.Message}", e);
    }

    public SqliteCommand Command(SqliteTransaction? tx, string sql) => Command(Connection, tx, sql);

    public int Execute(SqliteTransaction? tx, string sql, long? value) => Execute(Connection, tx, sql, value);

    public SqliteCommand Prepare(string sql, params string[] parameters)
    {
        SqliteCommand c = Command(null, sql);
        foreach (string name in parameters)
        {
            c.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        c.Prepare();
        return c;
    }

    /// <summary>Runs <paramref name="body"/> under the lock with SQLite errors translated.</summary>
    public T Serialised<T>(Func<T> body)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                return body();
            }
            catch (SqliteException e)
            {
                throw Translate(e, Path);
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> in one transaction, under the lock, with SQLite errors translated.</summary>
    public void Write(Func<SqliteTransaction, int> body) => Serialised(() => InTransaction(body));

    /// <summary>One transaction; the caller holds the lock. A rollback forgets the cached process ids.</summary>
    public T InTransaction<T>(Func<SqliteTransaction, T> body)
    {
        SqliteTransaction tx = Connection.BeginTransaction();
        try
        {
            T result = body(tx);
            tx.Commit();
            tx.Dispose();
            return result;
        }
        catch
        {
            // Rows inserted by the rolled-back transaction are gone: forget their ids.
            Processes.Clear();
            try
            {
                tx.Dispose();
            }
            catch (SqliteException) when (raw.sqlite3_get_autocommit(Connection.Handle) != 0)
            {
                // SQLite rolled the transaction back itself (disk full, I/O error), so the ROLLBACK of Dispose found
                // none; its "no transaction is active" must not hide the error that caused it.
            }

            throw;
        }
    }

    /// <summary>Closes the connection once, under the lock, after <paramref name="before"/> (prepared statements).</summary>
    public void Close(Action before)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            before();

            // Closing the last connection checkpoints the WAL into the database and removes it.
            Connection.Dispose();
        }
    }

    public void Dispose() => Close(() => { });
}
