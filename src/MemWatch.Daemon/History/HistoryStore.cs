using MemWatch.Probes;
using MemWatch.Probes.ProcFs;
using Microsoft.Data.Sqlite;

namespace MemWatch.Daemon.History;

/// <summary>
/// The daemon's embedded history: samples (downsampled with age, bounded in size), verdict changes and an append-only
/// audit log, in one SQLite file (WAL) in the state directory. This type is its lifecycle (open, lock, check, migrate,
/// move aside, close); its users each take one part: the daemon's writer thread <see cref="Writer"/> and
/// <see cref="Retention"/>, the read-only CLI and a restarted daemon <see cref="Reader"/>. One writer (the daemon,
/// guarded by a lock file) and any number of read-only readers (the CLI), which never block the writer. Thread-safe:
/// calls are serialised.
/// </summary>
internal sealed class HistoryStore : IDisposable
{
    public const string FileName = "history.db";
    public const string LockFileName = "history.lock";

    private readonly HistoryDatabase _db;
    private readonly FileStream? _writerLock;
    private readonly HistoryWriter? _writer;
    private readonly HistoryRetention? _retention;

    private HistoryStore(SqliteConnection db, FileStream? writerLock, HistoryOptions options, string path)
    {
        _db = new HistoryDatabase(db, path, options.BootId ?? "", options.Time);
        _writerLock = writerLock;
        Reader = new HistoryReader(_db);
        if (writerLock is not null)
        {
            _writer = new HistoryWriter(_db);
            _retention = new HistoryRetention(_db, options);
        }
    }

    /// <summary>The database file.</summary>
    public string DatabasePath => _db.Path;

    public bool IsReadOnly => _writerLock is null;

    /// <summary>The clock the history is kept by (<see cref="HistoryOptions.Time"/>).</summary>
    public TimeProvider Time => _db.Time;

    /// <summary>Queries: samples, incarnations, verdict changes, the audit log.</summary>
    public HistoryReader Reader { get; }

    /// <summary>Writes, for the daemon's writer thread; <see cref="InvalidOperationException"/> on a read-only store.</summary>
    public HistoryWriter Writer => _writer ?? throw new InvalidOperationException("this history store was opened read-only");

    /// <summary>Downsampling, expiry and the size bound; <see cref="InvalidOperationException"/> on a read-only store.</summary>
    public HistoryRetention Retention => _retention ?? throw new InvalidOperationException("this history store was opened read-only");

    /// <summary>
    /// Opens the writer: creates the directory and database, takes the writer lock, checks the file (quick_check) and
    /// migrates its schema. Throws <see cref="HistoryStoreException"/> (Corrupt, Locked, NewerSchema, Unavailable).
    /// </summary>
    public static HistoryStore Open(string stateDirectory, HistoryOptions options)
    {
        options.Validate();
        FileStream writerLock = AcquireWriterLock(stateDirectory);
        try
        {
            return OpenWriter(stateDirectory, options, writerLock);
        }
        catch
        {
            writerLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="Open"/>, but a corrupt database is moved aside (<see cref="MoveAside"/>) and a fresh one created;
    /// <paramref name="movedAsideTo"/> names where the old file went. Other failures still throw.
    /// </summary>
    public static HistoryStore OpenOrStartFresh(string stateDirectory, HistoryOptions options, out string? movedAsideTo)
    {
        options.Validate();
        movedAsideTo = null;
        FileStream writerLock = AcquireWriterLock(stateDirectory);
        try
        {
            try
            {
                return OpenWriter(stateDirectory, options, writerLock);
            }
            catch (HistoryStoreException e) when (e.Failure == HistoryFailure.Corrupt)
            {
                movedAsideTo = MoveFilesAside(stateDirectory, options.Time);
                return OpenWriter(stateDirectory, options, writerLock);
            }
        }
        catch
        {
            writerLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Renames the database and its -wal and -shm files to <c>history.db.corrupt-TIMESTAMP</c> (kept for a post-mortem)
    /// so the next <see cref="Open"/> starts fresh. Takes the writer lock, so it fails (Locked) while a daemon has the
    /// database open. Returns the new name of the database file, or null when there was none.
    /// </summary>
    public static string? MoveAside(string stateDirectory, TimeProvider? time = null)
    {
        using FileStream writerLock = AcquireWriterLock(stateDirectory);
        return MoveFilesAside(stateDirectory, time ?? TimeProvider.System);
    }

    /// <summary>
    /// Opens a reader (the CLI): read-only, never takes the writer lock and never blocks the writer. Throws
    /// <see cref="HistoryStoreException"/> with Missing when the daemon never wrote a database there.
    /// </summary>
    /// <param name="bootId">This boot's id (<see cref="ReadBootId"/>): the reader's "current boot".</param>
    public static HistoryStore OpenReadOnly(string stateDirectory, TimeProvider? time = null, string? bootId = null)
    {
        string path = Path.Combine(stateDirectory, FileName);
        if (!File.Exists(path))
        {
            throw new HistoryStoreException(HistoryFailure.Missing, path, $"no history database at {path}");
        }

        var db = new SqliteConnection(ConnectionString(path, SqliteOpenMode.ReadOnly));
        try
        {
            db.Open();
            long version = HistoryDatabase.Scalar(db, "PRAGMA user_version");
            if (version > HistorySchema.CurrentVersion)
            {
                throw NewerSchema(path, version);
            }

            if (version < HistorySchema.CurrentVersion)
            {
                throw new HistoryStoreException(
                    HistoryFailure.Unavailable,
                    path,
                    $"history database {path} has schema version {version}; start the memwatch daemon once to migrate it to {HistorySchema.CurrentVersion}");
            }

            return new HistoryStore(db, null, new HistoryOptions { Time = time ?? TimeProvider.System, BootId = bootId }, path);
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw HistoryDatabase.Translate(e, path);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _db.Close(() => _writer?.DisposeStatements());
        _writerLock?.Dispose();
    }

    private static HistoryStore OpenWriter(string stateDirectory, HistoryOptions options, FileStream writerLock)
    {
        string path = Path.Combine(stateDirectory, FileName);
        var db = new SqliteConnection(ConnectionString(path, SqliteOpenMode.ReadWriteCreate));
        try
        {
            db.Open();
            long version = HistoryDatabase.Scalar(db, "PRAGMA user_version");
            if (version > HistorySchema.CurrentVersion)
            {
                throw NewerSchema(path, version);
            }

            if (version == 0 && HistoryDatabase.Scalar(db, "SELECT count(*) FROM sqlite_schema") > 0)
            {
                throw new HistoryStoreException(HistoryFailure.Corrupt, path, $"{path} is an SQLite database but not a memwatch history (user_version 0 with tables)");
            }

            CheckIntegrity(db, path);
            if (version == 0)
            {
                // Only takes effect before the first table exists; lets Maintain return freed pages to the file system.
                HistoryDatabase.Execute(db, null, "PRAGMA auto_vacuum = INCREMENTAL", null);
            }

            using SqliteCommand wal = HistoryDatabase.Command(db, null, "PRAGMA journal_mode = WAL");
            string mode = wal.ExecuteScalar() as string ?? "";
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new HistoryStoreException(HistoryFailure.Unavailable, path, $"history database {path} cannot use write-ahead logging (journal_mode {mode})");
            }

            // NORMAL in WAL mode: a committed tick survives a crash of the daemon, possibly not a power loss.
            HistoryDatabase.Execute(db, null, "PRAGMA synchronous = NORMAL", null);
            HistoryDatabase.Execute(db, null, "PRAGMA journal_size_limit = 16777216", null);
            Migrate(db, version);
            return new HistoryStore(db, writerLock, options, path);
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw HistoryDatabase.Translate(e, path);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    private static void Migrate(SqliteConnection db, long from)
    {
        for (long v = from; v < HistorySchema.CurrentVersion; v++)
        {
            using SqliteTransaction tx = db.BeginTransaction();
            HistoryDatabase.Execute(db, tx, HistorySchema.Migrations[v], null);
            HistoryDatabase.Execute(db, tx, $"PRAGMA user_version = {v + 1}", null);
            tx.Commit();
        }
    }

    private static void CheckIntegrity(SqliteConnection db, string path)
    {
        // quick_check reads every page (O(size), without the index cross-checks of integrity_check).
        using SqliteCommand c = HistoryDatabase.Command(db, null, "PRAGMA quick_check(1)");
        string result = c.ExecuteScalar() as string ?? "no result";
        if (result != "ok")
        {
            throw new HistoryStoreException(HistoryFailure.Corrupt, path, $"history database {path} is corrupt: {result}");
        }
    }

    private static FileStream AcquireWriterLock(string stateDirectory)
    {
        string path = Path.Combine(stateDirectory, FileName);
        string lockPath = Path.Combine(stateDirectory, LockFileName);
        try
        {
            Directory.CreateDirectory(stateDirectory);

            // FileShare.None takes flock(LOCK_EX | LOCK_NB) on Linux: released by the kernel if the daemon dies.
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(lockPath))
        {
            throw new HistoryStoreException(HistoryFailure.Locked, path, $"history database {path} is in use by another memwatch daemon ({lockPath} is locked)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HistoryStoreException(HistoryFailure.Unavailable, path, $"cannot use state directory {stateDirectory}: {e.Message}", e);
        }
    }

    private static string? MoveFilesAside(string stateDirectory, TimeProvider time)
    {
        string path = Path.Combine(stateDirectory, FileName);
        string suffix = ".corrupt-" + time.GetUtcNow().ToString("yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            string? moved = null;
            if (File.Exists(path))
            {
                moved = path + suffix;
                File.Move(path, moved);
            }

            foreach (string extra in new[] { path + "-wal", path + "-shm", path + "-journal" })
            {
                if (File.Exists(extra))
                {
                    File.Move(extra, extra + suffix);
                }
            }

            return moved;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HistoryStoreException(HistoryFailure.Unavailable, path, $"cannot move {path} aside: {e.Message}", e);
        }
    }

    private static string ConnectionString(string path, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = mode,

        // One long-lived connection per store: pooling would keep the file open after Dispose (and after MoveAside).
        Pooling = false,

        // Seconds a statement retries while SQLite reports busy before failing (Locked).
        DefaultTimeout = 10,
    }.ToString();

    private static HistoryStoreException NewerSchema(string path, long version) => new(
        HistoryFailure.NewerSchema,
        path,
        $"history database {path} has schema version {version}, newer than this memwatch knows ({HistorySchema.CurrentVersion})");

    /// <summary>This boot's id as <paramref name="fs"/> shows it; "" when it cannot be read (boots are then not told apart).</summary>
    public static string ReadBootId(ProcFileSystem fs)
    {
        try
        {
            return BootId.TryRead(fs, new FileBuffer(64), out BootId? id) ? id.Value : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcParseException)
        {
            return "";
        }
    }
}
