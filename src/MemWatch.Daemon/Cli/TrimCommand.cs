using System.Text.Json;
using MemWatch.Daemon.Reports;
using MemWatch.Probes;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Daemon.Cli;

/// <summary>
/// <c>memwatch trim PID [--json] [--timeout SECONDS]</c>: asks the target's allocator for its statistics, tells it to
/// give free memory back (glibc malloc_trim(0), jemalloc purge, tcmalloc ReleaseFreeMemory), asks again, and reports
/// RSS before and after with the pause every step cost the target thread.
/// </summary>
internal static class TrimCommand
{
    public static int Run(ProcFileSystem fs, int pid, bool json, double timeoutSeconds, TextWriter stdout)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(timeoutSeconds);
        var buffer = new FileBuffer();
        // The name and the start time come from one read of /proc/PID/stat; the session then acts only on the process
        // with that start time (checked after each PTRACE_SEIZE), so the report names the process acted on.
        ProcStat identity = ReadStat(fs, pid, buffer) ?? throw new CliException(ExitCodes.NoSuchProcess, $"no such process: {pid}");
        string command = identity.Comm;

        using AllocatorConnection connection = Open(pid, identity.StartTimeTicks);
        IAllocatorIntrospector allocator = connection.Introspector;
        if (!allocator.IsSupported)
        {
            throw new CliException(ExitCodes.NotSupported, $"cannot trim process {pid}: allocator {allocator.Allocator} is not supported: {allocator.NotSupportedReason}");
        }

        var warnings = new List<string>();
        AllocatorStatistics before = Remote(pid, "read allocator statistics of", () => connection.ReadStatistics(timeout));
        ulong? rssBefore = ReadStatus(fs, pid, buffer)?.VmRssBytes;
        ReleaseResult release = Remote(pid, "trim", () => connection.Release(timeout));
        ulong? rssAfter = ReadStatus(fs, pid, buffer)?.VmRssBytes;
        int tid = connection.Tid;

        AllocatorStatistics? after = null;
        try
        {
            after = connection.ReadStatistics(timeout);
        }
        catch (RemoteCallException e)
        {
            // The release happened; only the after-reading is missing.
            warnings.Add($"statistics after the release: {e.Reason.ToName()}: {e.Message}");
        }
        catch (ProcParseException e)
        {
            warnings.Add($"statistics after the release: unreadable allocator output: {e.Message}");
        }

        if (rssAfter is null)
        {
            warnings.Add($"process {pid} exited before its RSS after the release could be read");
        }

        var steps = new List<RemoteCallStep>
        {
            StatisticsStep("statistics-before", before),
            new()
            {
                Step = "release",
                Calls = 1,
                PauseMicroseconds = release.PauseMicroseconds,
                PauseMicrosecondsTotal = release.PauseMicroseconds,
                CalleeMicroseconds = release.CalleeMicroseconds,
            },
        };
        if (after is not null)
        {
            steps.Add(StatisticsStep("statistics-after", after));
        }

        var report = new TrimReport
        {
            Pid = pid,
            Command = command,
            Allocator = release.Allocator,
            Result = release.Outcome.ToName(),
            Message = release.Message,
            ReturnValue = release.ReturnValue,
            RssBeforeBytes = rssBefore,
            RssAfterBytes = rssAfter,
            ReleasedBytes = rssBefore is { } b && rssAfter is { } a ? (long)b - (long)a : null,
            PredictedReleasableBytes = before.ReleasableBytes,
            PauseMicroseconds = release.PauseMicroseconds,
            CalleeMicroseconds = release.CalleeMicroseconds,
            Tid = tid,
            Before = AllocatorFigures.From(before),
            After = after is null ? null : AllocatorFigures.From(after),
            Steps = steps,
            Notes = before.Notes,
            Warnings = warnings,
        };

        stdout.Write(json
            ? JsonSerializer.Serialize(report, ReportJsonContext.Default.TrimReport) + Environment.NewLine
            : TrimReportText.Render(report));
        if (release.Outcome == ReleaseOutcome.Failed)
        {
            throw new CliException(ExitCodes.Failure, $"trim of process {pid}: {release.Message}");
        }

        return ExitCodes.Ok;
    }

    private static AllocatorConnection Open(int pid, ulong startTimeTicks)
    {
        try
        {
            return AllocatorConnection.Open(pid, new RemoteCallOptions { ExpectedStartTimeTicks = startTimeTicks });
        }
        catch (RemoteCallException e) when (e.Reason == RemoteCallFailure.ProcessExited)
        {
            throw new CliException(ExitCodes.NoSuchProcess, $"no such process: {pid} ({e.Message})");
        }
        catch (RemoteCallException e)
        {
            throw new CliException(ExitCodes.For(e.Reason), $"cannot trim process {pid}: {e.Message}");
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.PermissionDenied,
                $"permission denied reading /proc/{pid}/maps: run as the process's user, as root, or with CAP_SYS_PTRACE");
        }
    }

    /// <summary>Runs one step, turning a refusal into the CLI's exit code (the engine restored the thread first).</summary>
    private static T Remote<T>(int pid, string what, Func<T> step)
    {
        try
        {
            return step();
        }
        catch (RemoteCallException e)
        {
            throw new CliException(ExitCodes.For(e.Reason), $"cannot {what} process {pid}: {e.Reason.ToName()}: {e.Message}");
        }
        catch (ProcParseException e)
        {
            throw new CliException(ExitCodes.Failure, $"cannot {what} process {pid}: unreadable allocator output: {e.Message}");
        }
    }

    private static RemoteCallStep StatisticsStep(string name, AllocatorStatistics s) => new()
    {
        Step = name,
        Calls = s.Calls,
        PauseMicroseconds = s.PauseMicrosecondsMax,
        PauseMicrosecondsTotal = s.PauseMicrosecondsTotal,
    };

    private static ProcStat? ReadStat(ProcFileSystem fs, int pid, FileBuffer buffer)
    {
        try
        {
            return ProcStat.TryRead(fs, pid, buffer, out ProcStat? stat) ? stat : null;
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.PermissionDenied, $"permission denied reading /proc/{pid}/stat");
        }
    }

    private static ProcStatus? ReadStatus(ProcFileSystem fs, int pid, FileBuffer buffer)
    {
        try
        {
            return ProcStatus.TryRead(fs, pid, buffer, out ProcStatus? status) ? status : null;
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.PermissionDenied, $"permission denied reading /proc/{pid}/status");
        }
    }
}
