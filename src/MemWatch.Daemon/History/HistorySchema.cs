namespace MemWatch.Daemon.History;

/// <summary>
/// The history database's schema, as migrations indexed by the <c>user_version</c> they produce. A process incarnation is
/// (boot, pid, starttime), stored once in <c>process</c> so sample rows stay small. Times are Unix milliseconds.
/// </summary>
internal static class HistorySchema
{
    public static int CurrentVersion => Migrations.Length;

    /// <summary>Migrations[i] takes the schema from version i to i + 1.</summary>
    public static readonly string[] Migrations =
    [
        """
        CREATE TABLE process (
            id INTEGER PRIMARY KEY,
            boot_id TEXT NOT NULL,
            pid INTEGER NOT NULL,
            start_ticks INTEGER NOT NULL,
            comm TEXT NOT NULL,
            first_ms INTEGER NOT NULL,
            UNIQUE (boot_id, pid, start_ticks)
        );
        CREATE INDEX process_by_pid ON process (pid, first_ms);

        -- resolution_s: 0 for a sample as taken, 60 or 3600 for a row that replaced the samples of that interval
        -- (averages, weighted by `samples`; rss_max the highest RSS; fault counters the highest, i.e. latest, value).
        -- minute = at_ms / 60000 leads the unique index so that a tick's rows for hundreds of processes land on a few
        -- index pages (those of the current minute) rather than one page per process; a process's rows are found by
        -- one index seek per minute.
        CREATE TABLE sample (
            process_id INTEGER NOT NULL,
            at_ms INTEGER NOT NULL,
            resolution_s INTEGER NOT NULL,
            samples INTEGER NOT NULL,
            rss INTEGER NOT NULL,
            rss_max INTEGER NOT NULL,
            anon INTEGER NOT NULL,
            file INTEGER NOT NULL,
            shmem INTEGER NOT NULL,
            swap INTEGER NOT NULL,
            minflt INTEGER NOT NULL,
            majflt INTEGER NOT NULL,
            alloc_in_use REAL,
            alloc_free REAL,
            minute INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX sample_by_minute ON sample (minute, process_id, at_ms);
        CREATE INDEX sample_by_age ON sample (resolution_s, at_ms);

        CREATE TABLE verdict_change (
            id INTEGER PRIMARY KEY,
            process_id INTEGER NOT NULL,
            at_ms INTEGER NOT NULL,
            kind TEXT NOT NULL,
            mechanism TEXT,
            confidence REAL NOT NULL,
            summary TEXT NOT NULL
        );
        CREATE INDEX verdict_change_by_process ON verdict_change (process_id, at_ms);
        CREATE INDEX verdict_change_by_age ON verdict_change (at_ms);

        -- Self-contained (no process_id) so pruning processes never touches it.
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            actor TEXT NOT NULL,
            pid INTEGER NOT NULL,
            start_ticks INTEGER NOT NULL,
            comm TEXT NOT NULL,
            action TEXT NOT NULL,
            result TEXT NOT NULL,
            rss_before INTEGER,
            rss_after INTEGER,
            released INTEGER,
            detail TEXT NOT NULL
        );
        CREATE INDEX audit_by_pid ON audit (pid, id);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """ + AuditNoDeleteTrigger,
    ];

    /// <summary>Dropped and recreated inside one transaction by the size bound, the only code that deletes audit rows.</summary>
    public const string AuditNoDeleteTrigger = """

        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """;
}
