using Microsoft.Data.Sqlite;

namespace MemWatch.Daemon.History;

/// <summary>
/// Retention of the history, run by the daemon's writer thread every few minutes (<see cref="HistoryWriterService"/>):
/// downsampling by age, expiry after Keep, and the bound on the file's size (<see cref="HistoryOptions"/>).
/// </summary>
internal sealed class HistoryRetention
{
    private readonly HistoryDatabase _db;
    private readonly HistoryOptions _options;

    internal HistoryRetention(HistoryDatabase db, HistoryOptions options)
    {
        _db = db;
        _options = options;
    }

    /// <summary>
    /// Downsamples by age (full resolution, then per-minute, then hourly buckets aligned on the clock), deletes what is
    /// older than Keep, then, while the pages in use exceed MaxBytes, deletes the oldest rows (hourly, then per-minute,
    /// then full-resolution samples, then verdict changes, then audit entries) and gives the pages back to the file
    /// system. Run it every few minutes; a pass with nothing to do is cheap.
    /// </summary>
    public HistoryMaintenance Maintain(DateTimeOffset now)
    {
        return _db.Serialised(() =>
        {
            try
            {
                long bytesBefore = PagesInUse();
                long nowMs = now.ToUnixTimeMilliseconds();
                long hourCutoff = HistoryDatabase.AlignDown(nowMs - (long)_options.MinuteResolutionFor.TotalMilliseconds, HistoryDatabase.HourMs);
                long minuteCutoff = HistoryDatabase.AlignDown(nowMs - (long)_options.FullResolutionFor.TotalMilliseconds, HistoryDatabase.MinuteMs);
                long keepCutoff = nowMs - (long)_options.Keep.TotalMilliseconds;

                (long toHour, long hourRows, long toMinute, long minuteRows, long expired, long verdictsExpired) = _db.InTransaction(tx =>
                {
                    (long inH, long outH) = Rollup(tx, "0, 60", HistoryDatabase.HourMs, hourCutoff);
                    (long inM, long outM) = Rollup(tx, "0", HistoryDatabase.MinuteMs, minuteCutoff);
                    long gone = _db.Execute(tx, "DELETE FROM sample WHERE resolution_s IN (0, 60, 3600) AND at_ms < $value", keepCutoff);
                    long verdicts = _db.Execute(tx, "DELETE FROM verdict_change WHERE at_ms < $value", keepCutoff);
                    if (gone + verdicts > 0)
                    {
                        PruneProcesses(tx);
                    }

                    return (inH, outH, inM, outM, gone, verdicts);
                });

                (long samples, long verdictsPruned, long audit) = BoundSize();
                _db.Execute(null, "PRAGMA incremental_vacuum", null);
                _db.Execute(null, "PRAGMA wal_checkpoint(PASSIVE)", null);
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
            finally
            {
                // Maintenance may delete process rows; ids are looked up again on the next write.
                _db.Processes.Clear();
            }
        });
    }

    /// <summary>
    /// Replaces the rows of the given resolutions older than <paramref name="cutoff"/> (aligned on a bucket boundary, so
    /// only whole buckets are folded) by one row per process and bucket; merges into a row already there.
    /// Returns (rows folded, rows written).
    /// </summary>
    private (long In, long Out) Rollup(SqliteTransaction tx, string fromResolutions, long bucketMs, long cutoff)
    {
        long resolution = bucketMs / 1000;
        _db.Execute(tx, "CREATE TEMP TABLE IF NOT EXISTS rollup AS SELECT * FROM sample WHERE 0", null);
        _db.Execute(tx, "DELETE FROM temp.rollup", null);
        long written = _db.Execute(tx, $"""
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
                   (at_ms - at_ms % {bucketMs}) / {HistoryDatabase.MinuteMs}
            FROM sample WHERE resolution_s IN ({fromResolutions}) AND at_ms < $value
            GROUP BY process_id, at_ms - at_ms % {bucketMs}
            """, cutoff);
        if (written == 0)
        {
            return (0, 0);
        }

        long folded = _db.Execute(tx, $"DELETE FROM sample WHERE resolution_s IN ({fromResolutions}) AND at_ms < $value", cutoff);
        _db.Execute(tx, """
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
    private void PruneProcesses(SqliteTransaction tx) => _db.Execute(tx, """
        DELETE FROM process WHERE id NOT IN (SELECT DISTINCT process_id FROM sample)
                              AND id NOT IN (SELECT process_id FROM verdict_change)
        """, null);

    private long PagesInUse()
    {
        using SqliteCommand c = _db.Command(null, "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()), (SELECT page_size FROM pragma_page_size())");
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

            long rows = HistoryDatabase.Scalar(_db.Connection, "SELECT (SELECT count(*) FROM sample) + (SELECT count(*) FROM verdict_change) + (SELECT count(*) FROM audit)");
            long perRow = Math.Max(1, used / Math.Max(1, rows));
            long batch = Math.Max(256, (used - target) / perRow);
            long deleted = _db.InTransaction(tx =>
            {
                if (category == 4)
                {
                    _db.Execute(tx, "DROP TRIGGER audit_no_delete", null);
                    long n = _db.Execute(tx, deletions[category], batch);
                    _db.Execute(tx, HistorySchema.AuditNoDeleteTrigger, null);
                    return n;
                }

                return _db.Execute(tx, deletions[category], batch);
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
            _db.InTransaction(tx => { PruneProcesses(tx); return 0; });
        }

        return (samples, verdicts, audit);
    }
}
