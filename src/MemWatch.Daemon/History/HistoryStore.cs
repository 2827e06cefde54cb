using MemWatch.Probes.Analysis;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MemWatch.Daemon.History;

/// <summary>
/// The daemon's embedded history: samples (downsampled with age, bounded in size), verdict changes and an append-only
/// audit log, in one SQLite file (WAL) in the state directory. One writer (the daemon, guarded by a lock file) and any
/// number of read-only readers (the CLI), which never block the writer. Thread-safe: calls are serialised.
/// </summary>
public sealed class HistoryStore : IDisposable
{
    public const string FileName = "history.db";
    public const string LockFileName = "history.lock";

    private const long MinuteMs = 60_000;
    private const long HourMs = 3_600_000;

    private const string SampleColumns =
        "p.pid, p.start_ticks, p.comm, s.at_ms, s.resolution_s, s.rss, s.rss_max, s.anon, s.file, s.shmem, s.swap, s.minflt, s.majflt, s.alloc_in_use, s.alloc_free";

    private static readonly DateTimeOffset s_earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _gate = new();
    private readonly SqliteConnection _db;
    private readonly FileStream? _writerLock;
    private readonly HistoryOptions _options;
    private readonly string _bootId;

    // (pid, starttime) -> process row id and the comm stored there; cleared whenever rows may have gone (rollback, pruning).
    private readonly Dictionary<(int Pid, ulong StartTimeTicks), (long Id, string Comm)> _processes = [];
    private readonly SampleInsert? _insertSample;
    private readonly SqliteCommand? _upsertProcess;
    private readonly SqliteCommand? _updateComm;
    private bool _disposed;

    private HistoryStore(SqliteConnection db, FileStream? writerLock, HistoryOptions options, string path)
    {
        _db = db;
        _writerLock = writerLock;
        _options = options;
        _bootId = options.BootId ?? ReadBootId();
        DatabasePath = path;
        if (writerLock is not null)
        {
            _insertSample = new SampleInsert(db);
            _upsertProcess = Prepare("""
                INSERT INTO process (boot_id, pid, start_ticks, comm, first_ms) VALUES ($boot, $pid, $start, $comm, $at)
                ON CONFLICT (boot_id, pid, start_ticks) DO UPDATE SET comm = excluded.comm, first_ms = min(first_ms, excluded.first_ms)
                RETURNING id
                """, "$boot", "$pid", "$start", "$comm", "$at");
            _updateComm = Prepare("UPDATE process SET comm = $comm WHERE id = $id", "$comm", "$id");
        }
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    public bool IsReadOnly => _writerLock is null;

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
                movedAsideTo = MoveFilesAside(stateDirectory);
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
    public static string? MoveAside(string stateDirectory)
    {
        using FileStream writerLock = AcquireWriterLock(stateDirectory);
        return MoveFilesAside(stateDirectory);
    }

    /// <summary>
    /// Opens a reader (the CLI): read-only, never takes the writer lock and never blocks the writer. Throws
    /// <see cref="HistoryStoreException"/> with Missing when the daemon never wrote a database there.
    /// </summary>
    public static HistoryStore OpenReadOnly(string stateDirectory)
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
            long version = Scalar(db, "PRAGMA user_version");
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

            return new HistoryStore(db, null, new HistoryOptions(), path);
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw Translate(e, path);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stores one tick's samples in one transaction. A sample whose (pid, starttime, time) is already stored is ignored.
    /// Throws <see cref="ArgumentOutOfRangeException"/> (storing nothing) for a time before 2000 or more than a day ahead
    /// of the clock: reads walk the stored time span minute by minute, so one absurd time would make them crawl.
    /// </summary>
    public void AppendSamples(IReadOnlyList<HistorySample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        DateTimeOffset latest = DateTimeOffset.UtcNow.AddDays(1);
        foreach (HistorySample s in samples)
        {
            if (s.At < s_earliest || s.At > latest)
            {
                throw new ArgumentOutOfRangeException(nameof(samples), s.At, $"sample of pid {s.Pid} is dated outside {s_earliest:yyyy-MM-dd} .. now + 1 day");
            }
        }

        Write(tx =>
        {
            for (int i = 0; i < samples.Count; i++)
            {
                HistorySample s = samples[i];
                long atMs = s.At.ToUnixTimeMilliseconds();
                _insertSample!.Execute(ProcessId(tx, s.Pid, s.StartTimeTicks, s.Comm, atMs), atMs, s, Minute(atMs));
            }

            return 0;
        });
    }

    public void RecordVerdictChange(VerdictChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        Write(tx =>
        {
            long atMs = change.At.ToUnixTimeMilliseconds();
            using SqliteCommand c = Command(tx, """
                INSERT INTO verdict_change (process_id, at_ms, kind, mechanism, confidence, summary)
                VALUES ($process, $at, $kind, $mechanism, $confidence, $summary)
                """);
            c.Parameters.AddWithValue("$process", ProcessId(tx, change.Pid, change.StartTimeTicks, change.Comm, atMs));
            c.Parameters.AddWithValue("$at", atMs);
            c.Parameters.AddWithValue("$kind", change.Kind);
            c.Parameters.AddWithValue("$mechanism", (object?)change.Mechanism ?? DBNull.Value);
            c.Parameters.AddWithValue("$confidence", change.Confidence);
            c.Parameters.AddWithValue("$summary", change.Summary);
            return c.ExecuteNonQuery();
        });
    }

    /// <summary>Appends to the audit log; a trigger refuses any UPDATE or DELETE of it.</summary>
    public void AppendAudit(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Write(tx =>
        {
            using SqliteCommand c = Command(tx, """
                INSERT INTO audit (at_ms, actor, pid, start_ticks, comm, action, result, rss_before, rss_after, released, detail)
                VALUES ($at, $actor, $pid, $start, $comm, $action, $result, $before, $after, $released, $detail)
                """);
            c.Parameters.AddWithValue("$at", entry.At.ToUnixTimeMilliseconds());
            c.Parameters.AddWithValue("$actor", entry.Actor);
            c.Parameters.AddWithValue("$pid", entry.Pid);
            c.Parameters.AddWithValue("$start", (long)entry.StartTimeTicks);
            c.Parameters.AddWithValue("$comm", entry.Comm);
            c.Parameters.AddWithValue("$action", entry.Action);
            c.Parameters.AddWithValue("$result", entry.Result);
            c.Parameters.AddWithValue("$before", entry.RssBeforeBytes is { } b ? (long)b : DBNull.Value);
            c.Parameters.AddWithValue("$after", entry.RssAfterBytes is { } a ? (long)a : DBNull.Value);
            c.Parameters.AddWithValue("$released", (object?)entry.ReleasedBytes ?? DBNull.Value);
            c.Parameters.AddWithValue("$detail", entry.Detail);
            return c.ExecuteNonQuery();
        });
    }

    /// <summary>Samples of one incarnation (this boot) since a time, oldest first.</summary>
    public IReadOnlyList<HistorySample> LoadSamples(int pid, ulong startTimeTicks, DateTimeOffset since) => Read(() =>
        ProcessIdOf(pid, startTimeTicks) is { } id ? SamplesOf(id, since.ToUnixTimeMilliseconds()) : (IReadOnlyList<HistorySample>)[]);

    /// <summary>
    /// What a restarted daemon resumes a trend from: the samples of <see cref="LoadSamples"/>, handed to
    /// <paramref name="add"/> as they are read rather than built into records (hundreds of targets with an hour of
    /// samples each made that list most of a start's garbage). Returns how many there were.
    /// </summary>
    public int ResumeSamples(int pid, ulong startTimeTicks, DateTimeOffset since, Action<MemorySample> add) => Read(() =>
    {
        ArgumentNullException.ThrowIfNull(add);
        if (ProcessIdOf(pid, startTimeTicks) is not { } id || SamplesCommand(id, since.ToUnixTimeMilliseconds()) is not { } c)
        {
            return 0;
        }

        using (c)
        {
            using SqliteDataReader r = c.ExecuteReader();
            int count = 0;
            while (r.Read())
            {
                add(new MemorySample(
                    r.GetInt64(3), startTimeTicks, (ulong)r.GetInt64(5), (ulong)r.GetInt64(7), (ulong)r.GetInt64(8),
                    (ulong)r.GetInt64(9), (ulong)r.GetInt64(10), (ulong)r.GetInt64(11), (ulong)r.GetInt64(12),
                    r.IsDBNull(13) ? double.NaN : r.GetDouble(13), r.IsDBNull(14) ? double.NaN : r.GetDouble(14)));
                count++;
            }

            return count;
        }
    });

    /// <summary>Samples of the latest incarnation of a pid over the last <paramref name="span"/> of wall-clock time, oldest first.</summary>
    public IReadOnlyList<HistorySample> LoadRecent(int pid, TimeSpan span) => Read(() =>
    {
        if (LatestProcessId(pid) is not { } id)
        {
            return (IReadOnlyList<HistorySample>)[];
        }

        long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return SamplesOf(id, span.TotalMilliseconds >= nowMs ? 0 : nowMs - (long)span.TotalMilliseconds);
    });

    /// <summary>The latest incarnation of a pid the history knows (any boot), or null.</summary>
    public HistoryIncarnation? FindLatestIncarnation(int pid) => Read(() =>
    {
        using SqliteCommand c = Command(null, """
            SELECT p.id, p.pid, p.start_ticks, p.comm, p.first_ms
            FROM process p WHERE p.pid = $pid ORDER BY p.first_ms DESC, p.id DESC LIMIT 1
            """);
        c.Parameters.AddWithValue("$pid", pid);
        using SqliteDataReader r = c.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        long? last = LastSampleOf(r.GetInt64(0));
        return new HistoryIncarnation(
            r.GetInt32(1),
            (ulong)r.GetInt64(2),
            r.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
            last is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);
    });

    /// <summary>The last <paramref name="limit"/> verdict changes of the latest incarnation of a pid, oldest first.</summary>
    public IReadOnlyList<VerdictChange> LoadVerdictChanges(int pid, int limit) => Read(() =>
    {
        var changes = new List<VerdictChange>();
        if (LatestProcessId(pid) is not { } id || limit <= 0)
        {
            return (IReadOnlyList<VerdictChange>)changes;
        }

        using SqliteCommand c = Command(null, """
            SELECT p.pid, p.start_ticks, p.comm, v.at_ms, v.kind, v.mechanism, v.confidence, v.summary
            FROM verdict_change v JOIN process p ON p.id = v.process_id
            WHERE v.process_id = $id ORDER BY v.at_ms DESC, v.id DESC LIMIT $limit
            """);
        c.Parameters.AddWithValue("$id", id);
        c.Parameters.AddWithValue("$limit", limit);
        using SqliteDataReader r = c.ExecuteReader();
        while (r.Read())
        {
            changes.Add(new VerdictChange(
                r.GetInt32(0),
                (ulong)r.GetInt64(1),
                r.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
                r.GetString(4),
                r.IsDBNull(5) ? null : r.GetString(5),
                r.GetDouble(6),
                r.GetString(7)));
        }

        changes.Reverse();
        return changes;
    });

    /// <summary>The last <paramref name="limit"/> audit entries (of one pid, any incarnation, or of all), oldest first.</summary>
    public IReadOnlyList<AuditEntry> LoadAudit(int? pid, int limit) => Read(() =>
    {
        var entries = new List<AuditEntry>();
        if (limit <= 0)
        {
            return (IReadOnlyList<AuditEntry>)entries;
        }

        using SqliteCommand c = Command(null, $"""
            SELECT at_ms, actor, pid, start_ticks, comm, action, result, rss_before, rss_after, released, detail
            FROM audit {(pid is null ? "" : "WHERE pid = $pid")} ORDER BY id DESC LIMIT $limit
            """);
        if (pid is { } p)
        {
            c.Parameters.AddWithValue("$pid", p);
        }

        c.Parameters.AddWithValue("$limit", limit);
        using SqliteDataReader r = c.ExecuteReader();
        while (r.Read())
        {
            entries.Add(new AuditEntry(
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)),
                r.GetString(1),
                r.GetInt32(2),
                (ulong)r.GetInt64(3),
                r.GetString(4),
                r.GetString(5),
                r.GetString(6),
                r.IsDBNull(7) ? null : (ulong)r.GetInt64(7),
                r.IsDBNull(8) ? null : (ulong)r.GetInt64(8),
                r.IsDBNull(9) ? null : r.GetInt64(9),
                r.GetString(10)));
        }

        entries.Reverse();
        return entries;
    });

    /// <summary>
    /// Downsamples by age (full resolution, then per-minute, then hourly buckets aligned on the clock), deletes what is
    /// older than Keep, then, while the pages in use exceed MaxBytes, deletes the oldest rows (hourly, then per-minute,
    /// then full-resolution samples, then verdict changes, then audit entries) and gives the pages back to the file
    /// system. Run it every few minutes; a pass with nothing to do is cheap.
    /// </summary>
    public HistoryMaintenance Maintain(DateTimeOffset now)
    {
        lock (_gate)
        {
            EnsureWritable();
            try
            {
                long bytesBefore = PagesInUse();
                long nowMs = now.ToUnixTimeMilliseconds();
                long hourCutoff = AlignDown(nowMs - (long)_options.MinuteResolutionFor.TotalMilliseconds, HourMs);
                long minuteCutoff = AlignDown(nowMs - (long)_options.FullResolutionFor.TotalMilliseconds, MinuteMs);
                long keepCutoff = nowMs - (long)_options.Keep.TotalMilliseconds;

                (long toHour, long hourRows, long toMinute, long minuteRows, long expired, long verdictsExpired) = InTransaction(tx =>
                {
                    (long inH, long outH) = Rollup(tx, "0, 60", HourMs, hourCutoff);
                    (long inM, long outM) = Rollup(tx, "0", MinuteMs, minuteCutoff);
                    long gone = Execute(tx, "DELETE FROM sample WHERE resolution_s IN (0, 60, 3600) AND at_ms < $value", keepCutoff);
                    long verdicts = Execute(tx, "DELETE FROM verdict_change WHERE at_ms < $value", keepCutoff);
                    if (gone + verdicts > 0)
                    {
                        PruneProcesses(tx);
                    }

                    return (inH, outH, inM, outM, gone, verdicts);
                });

                (long samples, long verdictsPruned, long audit) = BoundSize();
                Execute(null, "PRAGMA incremental_vacuum", null);
                Execute(null, "PRAGMA wal_checkpoint(PASSIVE)", null);
                return new HistoryMaintenance
                {
                    RowsToHour = toHour,
                    HourRowsWritten = hourRows,
                    RowsToMinute = toMinute,
                    MinuteRowsWritten = minuteRows,
                    SamplesExpired = expired,
                    VerdictChangesExpired = verdictsExpired,
                    SamplesPrunedForSize = samples,
                    VerdictChangesPrunedForSize = verdictsPruned,
                    AuditEntriesPrunedForSize = audit,
                    BytesBefore = bytesBefore,
                    BytesAfter = PagesInUse(),
                };
            }
            catch (SqliteException e)
            {
                throw Translate(e, DatabasePath);
            }
            finally
            {
                // Maintenance may delete process rows; ids are looked up again on the next write.
                _processes.Clear();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _insertSample?.Dispose();
            _upsertProcess?.Dispose();
            _updateComm?.Dispose();

            // Closing the last connection checkpoints the WAL into the database and removes it.
            _db.Dispose();
            _writerLock?.Dispose();
        }
    }

    private static HistoryStore OpenWriter(string stateDirectory, HistoryOptions options, FileStream writerLock)
    {
        string path = Path.Combine(stateDirectory, FileName);
        var db = new SqliteConnection(ConnectionString(path, SqliteOpenMode.ReadWriteCreate));
        try
        {
            db.Open();
            long version = Scalar(db, "PRAGMA user_version");
            if (version > HistorySchema.CurrentVersion)
            {
                throw NewerSchema(path, version);
            }

            if (version == 0 && Scalar(db, "SELECT count(*) FROM sqlite_schema") > 0)
            {
                throw new HistoryStoreException(HistoryFailure.Corrupt, path, $"{path} is an SQLite database but not a memwatch history (user_version 0 with tables)");
            }

            CheckIntegrity(db, path);
            if (version == 0)
            {
                // Only takes effect before the first table exists; lets Maintain return freed pages to the file system.
                Execute(db, null, "PRAGMA auto_vacuum = INCREMENTAL", null);
            }

            using SqliteCommand wal = Command(db, null, "PRAGMA journal_mode = WAL");
            string mode = wal.ExecuteScalar() as string ?? "";
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new HistoryStoreException(HistoryFailure.Unavailable, path, $"history database {path} cannot use write-ahead logging (journal_mode {mode})");
            }

            // NORMAL in WAL mode: a committed tick survives a crash of the daemon, possibly not a power loss.
            Execute(db, null, "PRAGMA synchronous = NORMAL", null);
            Execute(db, null, "PRAGMA journal_size_limit = 16777216", null);
            Migrate(db, version);
            return new HistoryStore(db, writerLock, options, path);
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw Translate(e, path);
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
            Execute(db, tx, HistorySchema.Migrations[v], null);
            Execute(db, tx, $"PRAGMA user_version = {v + 1}", null);
            tx.Commit();
        }
    }

    private static void CheckIntegrity(SqliteConnection db, string path)
    {
        // quick_check reads every page (O(size), without the index cross-checks of integrity_check).
        using SqliteCommand c = Command(db, null, "PRAGMA quick_check(1)");
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

    private static string? MoveFilesAside(string stateDirectory)
    {
        string path = Path.Combine(stateDirectory, FileName);
        string suffix = ".corrupt-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture);
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

    private static HistoryStoreException Translate(SqliteException e, string path)
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

    private static string ReadBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static long Minute(long ms) => Math.DivRem(ms, MinuteMs) is var (q, r) && r < 0 ? q - 1 : q;

    private static long AlignDown(long ms, long bucket) => ms - (((ms % bucket) + bucket) % bucket);

    private static long Scalar(SqliteConnection db, string sql)
    {
        using SqliteCommand c = Command(db, null, sql);
        return Convert.ToInt64(c.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static SqliteCommand Command(SqliteConnection db, SqliteTransaction? tx, string sql)
    {
        SqliteCommand c = db.CreateCommand();
        c.CommandText = sql;
        c.Transaction = tx;
        return c;
    }

    /// <summary>Runs a statement; <paramref name="value"/>, when given, binds <c>$value</c> (a time cutoff or a row count).</summary>
    private static int Execute(SqliteConnection db, SqliteTransaction? tx, string sql, long? value)
    {
        using SqliteCommand c = Command(db, tx, sql);
        if (value is { } v)
        {
            c.Parameters.AddWithValue("$value", v);
        }

        return c.ExecuteNonQuery();
    }

    private static List<HistorySample> ReadSamples(SqliteCommand c)
    {
        var samples = new List<HistorySample>();
        using SqliteDataReader r = c.ExecuteReader();
        while (r.Read())
        {
            long resolution = r.GetInt64(4);
            samples.Add(new HistorySample(
                r.GetInt32(0),
                (ulong)r.GetInt64(1),
                r.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
                (ulong)r.GetInt64(5),
                (ulong)r.GetInt64(7),
                (ulong)r.GetInt64(8),
                (ulong)r.GetInt64(9),
                (ulong)r.GetInt64(10),
                (ulong)r.GetInt64(11),
                (ulong)r.GetInt64(12),
                r.IsDBNull(13) ? double.NaN : r.GetDouble(13),
                r.IsDBNull(14) ? double.NaN : r.GetDouble(14))
            {
                Resolution = TimeSpan.FromSeconds(resolution),
                PeakRssBytes = resolution == 0 ? null : (ulong)r.GetInt64(6),
            });
        }

        return samples;
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        SqliteCommand c = Command(_db, null, sql);
        foreach (string name in parameters)
        {
            c.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        c.Prepare();
        return c;
    }

    private SqliteCommand Command(SqliteTransaction? tx, string sql) => Command(_db, tx, sql);

    private int Execute(SqliteTransaction? tx, string sql, long? value) => Execute(_db, tx, sql, value);

    private void EnsureWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_writerLock is null)
        {
            throw new InvalidOperationException("this history store was opened read-only");
        }
    }

    private void Write(Func<SqliteTransaction, int> body)
    {
        lock (_gate)
        {
            EnsureWritable();
            try
            {
                InTransaction(body);
            }
            catch (SqliteException e)
            {
                throw Translate(e, DatabasePath);
            }
        }
    }

    private T InTransaction<T>(Func<SqliteTransaction, T> body)
    {
        SqliteTransaction tx = _db.BeginTransaction();
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
            _processes.Clear();
            try
            {
                tx.Dispose();
            }
            catch (SqliteException) when (raw.sqlite3_get_autocommit(_db.Handle) != 0)
            {
                // SQLite rolled the transaction back itself (disk full, I/O error), so the ROLLBACK of Dispose found
                // none; its "no transaction is active" must not hide the error that caused it.
            }

            throw;
        }
    }

    private T Read<T>(Func<T> body)
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
                throw Translate(e, DatabasePath);
            }
        }
    }

    private long ProcessId(SqliteTransaction tx, int pid, ulong startTimeTicks, string comm, long atMs)
    {
        ArgumentNullException.ThrowIfNull(comm);
        if (_processes.TryGetValue((pid, startTimeTicks), out (long Id, string Comm) known))
        {
            if (known.Comm != comm)
            {
                // exec changes comm but not starttime: same incarnation, new name.
                _updateComm!.Transaction = tx;
                _updateComm.Parameters[0].Value = comm;
                _updateComm.Parameters[1].Value = known.Id;
                _updateComm.ExecuteNonQuery();
                _processes[(pid, startTimeTicks)] = (known.Id, comm);
            }

            return known.Id;
        }

        SqliteCommand upsert = _upsertProcess!;
        upsert.Transaction = tx;
        upsert.Parameters[0].Value = _bootId;
        upsert.Parameters[1].Value = pid;
        upsert.Parameters[2].Value = (long)startTimeTicks;
        upsert.Parameters[3].Value = comm;
        upsert.Parameters[4].Value = atMs;
        long id = (long)upsert.ExecuteScalar()!;
        _processes[(pid, startTimeTicks)] = (id, comm);
        return id;
    }

    private long? LatestProcessId(int pid)
    {
        using SqliteCommand c = Command(null, "SELECT id FROM process WHERE pid = $pid ORDER BY first_ms DESC, id DESC LIMIT 1");
        c.Parameters.AddWithValue("$pid", pid);
        return c.ExecuteScalar() is long id ? id : null;
    }

    /// <summary>
    /// Replaces the rows of the given resolutions older than <paramref name="cutoff"/> (aligned on a bucket boundary, so
    /// only whole buckets are folded) by one row per process and bucket; merges into a row already there.
    /// Returns (rows folded, rows written).
    /// </summary>
    private (long In, long Out) Rollup(SqliteTransaction tx, string fromResolutions, long bucketMs, long cutoff)
    {
        long resolution = bucketMs / 1000;
        Execute(tx, "CREATE TEMP TABLE IF NOT EXISTS rollup AS SELECT * FROM sample WHERE 0", null);
        Execute(tx, "DELETE FROM temp.rollup", null);
        long written = Execute(tx, $"""
            INSERT INTO temp.rollup
            SELECT process_id, at_ms - at_ms % {bucketMs}, {resolution}, sum(samples),
                   CAST(round(sum(rss * 1.0 * samples) / sum(samples)) AS INTEGER), max(rss_max),
                   CAST(round(sum(anon * 1.0 * samples) / sum(samples)) AS INTEGER),
                   CAST(round(sum(file * 1.0 * samples) / sum(samples)) AS INTEGER),
                   CAST(round(sum(shmem * 1.0 * samples) / sum(samples)) AS INTEGER),
                   CAST(round(sum(swap * 1.0 * samples) / sum(samples)) AS INTEGER),
                   max(minflt), max(majflt),
                   sum(alloc_in_use * samples) / sum(CASE WHEN alloc_in_use IS NOT NULL THEN samples END),
                   sum(alloc_free * samples) / sum(CASE WHEN alloc_free IS NOT NULL THEN samples END),
                   (at_ms - at_ms % {bucketMs}) / {MinuteMs}
            FROM sample WHERE resolution_s IN ({fromResolutions}) AND at_ms < $value
            GROUP BY process_id, at_ms - at_ms % {bucketMs}
            """, cutoff);
        if (written == 0)
        {
            return (0, 0);
        }

        long folded = Execute(tx, $"DELETE FROM sample WHERE resolution_s IN ({fromResolutions}) AND at_ms < $value", cutoff);
        Execute(tx, """
            INSERT INTO sample SELECT * FROM temp.rollup WHERE true
            ON CONFLICT (minute, process_id, at_ms) DO UPDATE SET
                resolution_s = max(resolution_s, excluded.resolution_s),
                samples = samples + excluded.samples,
                rss = CAST(round((rss * 1.0 * samples + excluded.rss * 1.0 * excluded.samples) / (samples + excluded.samples)) AS INTEGER),
                rss_max = max(rss_max, excluded.rss_max),
                anon = CAST(round((anon * 1.0 * samples + excluded.anon * 1.0 * excluded.samples) / (samples + excluded.samples)) AS INTEGER),
                file = CAST(round((file * 1.0 * samples + excluded.file * 1.0 * excluded.samples) / (samples + excluded.samples)) AS INTEGER),
                shmem = CAST(round((shmem * 1.0 * samples + excluded.shmem * 1.0 * excluded.samples) / (samples + excluded.samples)) AS INTEGER),
                swap = CAST(round((swap * 1.0 * samples + excluded.swap * 1.0 * excluded.samples) / (samples + excluded.samples)) AS INTEGER),
                minflt = max(minflt, excluded.minflt),
                majflt = max(majflt, excluded.majflt),
                alloc_in_use = coalesce((alloc_in_use * samples + excluded.alloc_in_use * excluded.samples) / (samples + excluded.samples), alloc_in_use, excluded.alloc_in_use),
                alloc_free = coalesce((alloc_free * samples + excluded.alloc_free * excluded.samples) / (samples + excluded.samples), alloc_free, excluded.alloc_free)
            """, null);
        return (folded, written);
    }

    /// <summary>Deletes processes left without samples or verdict changes (one scan of each table: run only after deleting rows).</summary>
    private void PruneProcesses(SqliteTransaction tx) => Execute(tx, """
        DELETE FROM process WHERE id NOT IN (SELECT DISTINCT process_id FROM sample)
                              AND id NOT IN (SELECT process_id FROM verdict_change)
        """, null);

    /// <summary>Oldest and newest sample times in the store, from the age index (three seeks), or null when empty.</summary>
    private (long Oldest, long Newest)? SampleTimeRange()
    {
        using SqliteCommand c = Command(null, """
            SELECT min(lo), max(hi) FROM (
                SELECT (SELECT min(at_ms) FROM sample WHERE resolution_s = 0) AS lo, (SELECT max(at_ms) FROM sample WHERE resolution_s = 0) AS hi
                UNION ALL SELECT (SELECT min(at_ms) FROM sample WHERE resolution_s = 60), (SELECT max(at_ms) FROM sample WHERE resolution_s = 60)
                UNION ALL SELECT (SELECT min(at_ms) FROM sample WHERE resolution_s = 3600), (SELECT max(at_ms) FROM sample WHERE resolution_s = 3600))
            """);
        using SqliteDataReader r = c.ExecuteReader();
        return r.Read() && !r.IsDBNull(0) ? (r.GetInt64(0), r.GetInt64(1)) : null;
    }

    /// <summary>One process's samples from a time on, oldest first: one seek into sample_by_minute per minute.</summary>
    private List<HistorySample> SamplesOf(long processId, long sinceMs)
    {
        using SqliteCommand? c = SamplesCommand(processId, sinceMs);
        return c is null ? [] : ReadSamples(c);
    }

    // The samples of one process since a time, oldest first (columns as SampleColumns); null when none can be stored then.
    private SqliteCommand? SamplesCommand(long processId, long sinceMs)
    {
        if (SampleTimeRange() is not { } range || Math.Max(sinceMs, range.Oldest) > range.Newest)
        {
            return null;
        }

        SqliteCommand c = Command(null, $"""
            WITH RECURSIVE m(minute) AS (SELECT $from UNION ALL SELECT minute + 1 FROM m WHERE minute < $to)
            SELECT {SampleColumns} FROM m CROSS JOIN sample s CROSS JOIN process p
            WHERE s.minute = m.minute AND s.process_id = $id AND s.at_ms >= $since AND p.id = s.process_id
            ORDER BY s.at_ms
            """);
        c.Parameters.AddWithValue("$from", Minute(Math.Max(sinceMs, range.Oldest)));
        c.Parameters.AddWithValue("$to", Minute(range.Newest));
        c.Parameters.AddWithValue("$id", processId);
        c.Parameters.AddWithValue("$since", sinceMs);
        return c;
    }

    private long? ProcessIdOf(int pid, ulong startTimeTicks)
    {
        using SqliteCommand c = Command(null, "SELECT id FROM process WHERE boot_id = $boot AND pid = $pid AND start_ticks = $start");
        c.Parameters.AddWithValue("$boot", _bootId);
        c.Parameters.AddWithValue("$pid", pid);
        c.Parameters.AddWithValue("$start", (long)startTimeTicks);
        return c.ExecuteScalar() as long?;
    }

    /// <summary>When the newest sample of a process was taken: walks the minutes back from the newest sample in the store.</summary>
    private long? LastSampleOf(long processId)
    {
        if (SampleTimeRange() is not { } range)
        {
            return null;
        }

        using SqliteCommand c = Command(null, """
            WITH RECURSIVE m(minute) AS (SELECT $to UNION ALL SELECT minute - 1 FROM m WHERE minute > $from)
            SELECT (SELECT max(at_ms) FROM sample s WHERE s.minute = m.minute AND s.process_id = $id) AS last
            FROM m WHERE last IS NOT NULL LIMIT 1
            """);
        c.Parameters.AddWithValue("$from", Minute(range.Oldest));
        c.Parameters.AddWithValue("$to", Minute(range.Newest));
        c.Parameters.AddWithValue("$id", processId);
        return c.ExecuteScalar() is long ms ? ms : null;
    }

    private long PagesInUse()
    {
        using SqliteCommand c = Command(null, "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()), (SELECT page_size FROM pragma_page_size())");
        using SqliteDataReader r = c.ExecuteReader();
        r.Read();
        return r.GetInt64(0) * r.GetInt64(1);
    }

    /// <summary>Deletes the oldest rows, category by category, until the pages in use fit MaxBytes (aiming at 90% of it).</summary>
    private (long Samples, long Verdicts, long Audit) BoundSize()
    {
        long samples = 0, verdicts = 0, audit = 0;
        long target = _options.MaxBytes / 10 * 9;
        string[] deletions =
        [
            "DELETE FROM sample WHERE rowid IN (SELECT rowid FROM sample WHERE resolution_s = 3600 ORDER BY at_ms LIMIT $value)",
            "DELETE FROM sample WHERE rowid IN (SELECT rowid FROM sample WHERE resolution_s = 60 ORDER BY at_ms LIMIT $value)",
            "DELETE FROM sample WHERE rowid IN (SELECT rowid FROM sample WHERE resolution_s = 0 ORDER BY at_ms LIMIT $value)",
            "DELETE FROM verdict_change WHERE id IN (SELECT id FROM verdict_change ORDER BY at_ms LIMIT $value)",
            "DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT $value)",
        ];
        int category = 0;

        // Pages free only when emptied, so a pass may need several rounds; each round deletes what should suffice.
        for (int round = 0; round < 1000 && category < deletions.Length; round++)
        {
            long used = PagesInUse();
            // Start only when over the bound; once started, go down to the target so the next pass has room.
            if (used <= (round == 0 ? _options.MaxBytes : target))
            {
                break;
            }

            long rows = Scalar(_db, "SELECT (SELECT count(*) FROM sample) + (SELECT count(*) FROM verdict_change) + (SELECT count(*) FROM audit)");
            long perRow = Math.Max(1, used / Math.Max(1, rows));
            long batch = Math.Max(256, (used - target) / perRow);
            long deleted = InTransaction(tx =>
            {
                if (category == 4)
                {
                    Execute(tx, "DROP TRIGGER audit_no_delete", null);
                    long n = Execute(tx, deletions[category], batch);
                    Execute(tx, HistorySchema.AuditNoDeleteTrigger, null);
                    return n;
                }

                return Execute(tx, deletions[category], batch);
            });
            switch (category)
            {
                case < 3: samples += deleted; break;
                case 3: verdicts += deleted; break;
                default: audit += deleted; break;
            }

            if (deleted < batch)
            {
                category++;
            }
        }

        if (samples + verdicts > 0)
        {
            InTransaction(tx => { PruneProcesses(tx); return 0; });
        }

        return (samples, verdicts, audit);
    }
}
