using System.Text.Json;
using MemWatch.Daemon.History;
using MemWatch.Daemon.Reports;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Daemon.Cli;

/// <summary>
/// <c>memwatch history PID [--since DURATION] [--json] [--state-dir DIR]</c>: what the daemon recorded about a process,
/// read from its history database read-only (the daemon keeps writing meanwhile).
/// </summary>
internal static class HistoryCommand
{
    /// <summary>Verdict changes and audit entries shown (the newest ones); --since bounds only the samples.</summary>
    private const int EventLimit = 50;

    public static int Run(ProcFileSystem fs, int pid, TimeSpan since, bool json, string? stateDirectory, TextWriter stdout)
    {
        string dir = stateDirectory ?? StateDirectory.Default;
        DateTimeOffset from = DateTimeOffset.UtcNow - since;
        HistoryReport report;
        using (HistoryStore store = OpenReader(fs, dir, pid))
        {
            try
            {
                report = Build(store, pid, since, from)
                    ?? throw new CliException(ExitCodes.NoSuchProcess, $"no history for pid {pid} in {store.DatabasePath}");
            }
            catch (HistoryStoreException e)
            {
                throw new CliException(ExitCodes.Failure, e.Message);
            }
        }

        stdout.Write(json
            ? JsonSerializer.Serialize(report, ReportJsonContext.Default.HistoryReport) + Environment.NewLine
            : HistoryReportText.Render(report));
        return ExitCodes.Ok;
    }

    private static HistoryReport? Build(HistoryStore store, int pid, TimeSpan since, DateTimeOffset from)
    {
        IReadOnlyList<AuditEntry> audit = store.Reader.LoadAudit(pid, 1000);
        if (store.Reader.FindLatestIncarnation(pid) is { } incarnation)
        {
            return HistoryReportBuilder.Build(
                pid,
                incarnation.StartTimeTicks,
                incarnation.Comm,
                from,
                incarnation.LastSample,
                store.Reader.LoadRecent(pid, since),
                store.Reader.LoadVerdictChanges(pid, EventLimit),
                [.. audit.Where(a => a.StartTimeTicks == incarnation.StartTimeTicks).TakeLast(EventLimit)]);
        }

        // Samples and verdicts expire; the audit log stays: show the latest audited incarnation of that pid.
        if (audit.Count == 0)
        {
            return null;
        }

        AuditEntry latest = audit[^1];
        return HistoryReportBuilder.Build(
            pid,
            latest.StartTimeTicks,
            latest.Comm,
            from,
            null,
            [],
            [],
            [.. audit.Where(a => a.StartTimeTicks == latest.StartTimeTicks).TakeLast(EventLimit)]);
    }

    private static HistoryStore OpenReader(ProcFileSystem fs, string dir, int pid)
    {
        string path = Path.Combine(dir, HistoryStore.FileName);
        try
        {
            // SQLite reports an unreadable file as "unable to open"; say plainly that it is permissions.
            File.OpenHandle(path).Dispose();
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.PermissionDenied, $"permission denied reading {path}: run as root or as the daemon's user");
        }
        catch (IOException)
        {
            // Missing: OpenReadOnly says so below.
        }

        try
        {
            return HistoryStore.OpenReadOnly(dir, bootId: HistoryStore.ReadBootId(fs));
        }
        catch (HistoryStoreException e) when (e.Failure == HistoryFailure.Missing)
        {
            throw new CliException(ExitCodes.NoSuchProcess, $"no history for pid {pid}: no history database in {dir} (the daemon writes it there; see --state-dir)");
        }
        catch (HistoryStoreException e)
        {
            throw new CliException(ExitCodes.Failure, e.Message);
        }
    }
}
