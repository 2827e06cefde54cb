using MemWatch.Probes.Analysis;
using Microsoft.Data.Sqlite;

namespace MemWatch.Daemon.History;

/// <summary>
/// The queries of the history, for the read-only CLI (<c>memwatch history</c>) and the daemon resuming a trend after a
/// restart: samples, incarnations, verdict changes and the audit log. Never writes.
/// </summary>
internal sealed class HistoryReader
{
    private const string SampleColumns =
        "p.pid, p.start_ticks, p.comm, s.at_ms, s.resolution_s, s.rss, s.rss_max, s.anon, s.file, s.shmem, s.swap, s.minflt, s.majflt, s.alloc_in_use, s.alloc_free";

    private readonly HistoryDatabase _db;

    internal HistoryReader(HistoryDatabase db)
    {
        _db = db;
    }

    /// <summary>Samples of one incarnation (this boot) since a time, oldest first.</summary>
    public IReadOnlyList<HistorySample> LoadSamples(int pid, ulong startTimeTicks, DateTimeOffset since) => _db.Serialised(() =>
        ProcessIdOf(pid, startTimeTicks) is { } id ? SamplesOf(id, since.ToUnixTimeMilliseconds()) : (IReadOnlyList<HistorySample>)[]);

    /// <summary>
    /// What a restarted daemon resumes a trend from: the samples of <see cref="LoadSamples"/>, handed to
    /// <paramref name="add"/> as they are read rather than built into records (hundreds of targets with an hour of
    /// samples each made that list most of a start's garbage). Returns how many there were.
    /// </summary>
    public int ResumeSamples(int pid, ulong startTimeTicks, DateTimeOffset since, Action<MemorySample> add) => _db.Serialised(() =>
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
    public IReadOnlyList<HistorySample> LoadRecent(int pid, TimeSpan span) => _db.Serialised(() =>
    {
        if (LatestProcessId(pid) is not { } id)
        {
            return (IReadOnlyList<HistorySample>)[];
        }

        long nowMs = _db.Time.GetUtcNow().ToUnixTimeMilliseconds();
        return SamplesOf(id, span.TotalMilliseconds >= nowMs ? 0 : nowMs - (long)span.TotalMilliseconds);
    });

    /// <summary>The latest incarnation of a pid the history knows (any boot), or null.</summary>
    public HistoryIncarnation? FindLatestIncarnation(int pid) => _db.Serialised(() =>
    {
        using SqliteCommand c = _db.Command(null, """
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
    public IReadOnlyList<VerdictChange> LoadVerdictChanges(int pid, int limit) => _db.Serialised(() =>
    {
        var changes = new List<VerdictChange>();
        if (LatestProcessId(pid) is not { } id || limit <= 0)
        {
            return (IReadOnlyList<VerdictChange>)changes;
        }

        using SqliteCommand c = _db.Command(null, """
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
    public IReadOnlyList<AuditEntry> LoadAudit(int? pid, int limit) => _db.Serialised(() =>
    {
        var entries = new List<AuditEntry>();
        if (limit <= 0)
        {
            return (IReadOnlyList<AuditEntry>)entries;
        }

        using SqliteCommand c = _db.Command(null, $"""
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

    private long? LatestProcessId(int pid)
    {
        using SqliteCommand c = _db.Command(null, "SELECT id FROM process WHERE pid = $pid ORDER BY first_ms DESC, id DESC LIMIT 1");
        c.Parameters.AddWithValue("$pid", pid);
        return c.ExecuteScalar() is long id ? id : null;
    }

    /// <summary>Oldest and newest sample times in the store, from the age index (three seeks), or null when empty.</summary>
    private (long Oldest, long Newest)? SampleTimeRange()
    {
        using SqliteCommand c = _db.Command(null, """
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

        SqliteCommand c = _db.Command(null, $"""
            WITH RECURSIVE m(minute) AS (SELECT $from UNION ALL SELECT minute + 1 FROM m WHERE minute < $to)
            SELECT {SampleColumns} FROM m CROSS JOIN sample s CROSS JOIN process p
            WHERE s.minute = m.minute AND s.process_id = $id AND s.at_ms >= $since AND p.id = s.process_id
            ORDER BY s.at_ms
            """);
        c.Parameters.AddWithValue("$from", HistoryDatabase.Minute(Math.Max(sinceMs, range.Oldest)));
        c.Parameters.AddWithValue("$to", HistoryDatabase.Minute(range.Newest));
        c.Parameters.AddWithValue("$id", processId);
        c.Parameters.AddWithValue("$since", sinceMs);
        return c;
    }

    private long? ProcessIdOf(int pid, ulong startTimeTicks)
    {
        using SqliteCommand c = _db.Command(null, "SELECT id FROM process WHERE boot_id = $boot AND pid = $pid AND start_ticks = $start");
        c.Parameters.AddWithValue("$boot", _db.BootId);
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

        using SqliteCommand c = _db.Command(null, """
            WITH RECURSIVE m(minute) AS (SELECT $to UNION ALL SELECT minute - 1 FROM m WHERE minute > $from)
            SELECT (SELECT max(at_ms) FROM sample s WHERE s.minute = m.minute AND s.process_id = $id) AS last
            FROM m WHERE last IS NOT NULL LIMIT 1
            """);
        c.Parameters.AddWithValue("$from", HistoryDatabase.Minute(range.Oldest));
        c.Parameters.AddWithValue("$to", HistoryDatabase.Minute(range.Newest));
        c.Parameters.AddWithValue("$id", processId);
        return c.ExecuteScalar() is long ms ? ms : null;
    }
}
