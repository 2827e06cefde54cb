using Microsoft.Data.Sqlite;

namespace MemWatch.Daemon.History;

/// <summary>
/// The writes of the history, for the daemon's writer thread (<see cref="HistoryRecorder"/> through
/// <see cref="HistoryWriterService"/>): one tick's samples, verdict changes and audit entries, each in one transaction.
/// </summary>
internal sealed class HistoryWriter
{
    private static readonly DateTimeOffset s_earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly HistoryDatabase _db;
    private readonly SampleInsert _insertSample;
    private readonly SqliteCommand _upsertProcess;
    private readonly SqliteCommand _updateComm;

    internal HistoryWriter(HistoryDatabase db)
    {
        _db = db;
        _insertSample = new SampleInsert(db.Connection);
        _upsertProcess = db.Prepare("""
            INSERT INTO process (boot_id, pid, start_ticks, comm, first_ms) VALUES ($boot, $pid, $start, $comm, $at)
            ON CONFLICT (boot_id, pid, start_ticks) DO UPDATE SET comm = excluded.comm, first_ms = min(first_ms, excluded.first_ms)
            RETURNING id
            """, "$boot", "$pid", "$start", "$comm", "$at");
        _updateComm = db.Prepare("UPDATE process SET comm = $comm WHERE id = $id", "$comm", "$id");
    }

    /// <summary>
    /// Stores one tick's samples in one transaction. A sample whose (pid, starttime, time) is already stored is ignored.
    /// Throws <see cref="ArgumentOutOfRangeException"/> (storing nothing) for a time before 2000 or more than a day ahead
    /// of the clock: reads walk the stored time span minute by minute, so one absurd time would make them crawl.
    /// </summary>
    public void AppendSamples(IReadOnlyList<HistorySample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        DateTimeOffset latest = _db.Time.GetUtcNow().AddDays(1);
        foreach (HistorySample s in samples)
        {
            if (s.At < s_earliest || s.At > latest)
            {
                throw new ArgumentOutOfRangeException(nameof(samples), s.At, $"sample of pid {s.Pid} is dated outside {s_earliest:yyyy-MM-dd} .. now + 1 day");
            }
        }

        _db.Write(tx =>
        {
            for (int i = 0; i < samples.Count; i++)
            {
                HistorySample s = samples[i];
                long atMs = s.At.ToUnixTimeMilliseconds();
                _insertSample.Execute(ProcessId(tx, s.Pid, s.StartTimeTicks, s.Comm, atMs), atMs, s, HistoryDatabase.Minute(atMs));
            }

            return 0;
        });
    }

    public void RecordVerdictChange(VerdictChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        _db.Write(tx =>
        {
            long atMs = change.At.ToUnixTimeMilliseconds();
            using SqliteCommand c = _db.Command(tx, """
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
        _db.Write(tx =>
        {
            using SqliteCommand c = _db.Command(tx, """
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

    /// <summary>Disposes the prepared statements (the store closes the connection).</summary>
    internal void DisposeStatements()
    {
        _insertSample.Dispose();
        _upsertProcess.Dispose();
        _updateComm.Dispose();
    }

    private long ProcessId(SqliteTransaction tx, int pid, ulong startTimeTicks, string comm, long atMs)
    {
        ArgumentNullException.ThrowIfNull(comm);
        if (_db.Processes.TryGetValue((pid, startTimeTicks), out (long Id, string Comm) known))
        {
            if (known.Comm != comm)
            {
                // exec changes comm but not starttime: same incarnation, new name.
                _updateComm.Transaction = tx;
                _updateComm.Parameters[0].Value = comm;
                _updateComm.Parameters[1].Value = known.Id;
                _updateComm.ExecuteNonQuery();
                _db.Processes[(pid, startTimeTicks)] = (known.Id, comm);
            }

            return known.Id;
        }

        _upsertProcess.Transaction = tx;
        _upsertProcess.Parameters[0].Value = _db.BootId;
        _upsertProcess.Parameters[1].Value = pid;
        _upsertProcess.Parameters[2].Value = (long)startTimeTicks;
        _upsertProcess.Parameters[3].Value = comm;
        _upsertProcess.Parameters[4].Value = atMs;
        long id = (long)_upsertProcess.ExecuteScalar()!;
        _db.Processes[(pid, startTimeTicks)] = (id, comm);
        return id;
    }
}
