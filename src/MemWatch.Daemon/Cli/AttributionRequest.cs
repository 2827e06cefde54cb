using MemWatch.Daemon.Reports;
using MemWatch.Probes.Attribution;

namespace MemWatch.Daemon.Cli;

/// <summary>
/// <c>inspect --attribute</c>: where to write the flame graph and the folded stacks, and the capture itself, run
/// beside the --watch window; a refusal (no CAP_PERFMON, no such process) ends the command with one line.
/// </summary>
internal sealed record AttributionRequest(string? FlameGraphPath, string? FoldedPath)
{
    public static Task<AttributionResult?> Start(int pid, double seconds, CancellationToken cancel)
    {
        // Refuse before the window starts rather than after it.
        if (PerfAccess.CheckAllowed() is { } refusal)
        {
            throw new CliException(ExitCodes.PermissionDenied, refusal);
        }

        return Task.Factory.StartNew(
            () => AttributionCapture.Run(pid, TimeSpan.FromSeconds(seconds), cancel: cancel),
            cancel,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    public static AttributionResult? Wait(Task<AttributionResult?> capture, int pid)
    {
        try
        {
            return capture.GetAwaiter().GetResult() ?? throw new CliException(ExitCodes.NoSuchProcess, $"no such process: {pid}");
        }
        catch (PerfAccessException e)
        {
            throw new CliException(ExitCodes.PermissionDenied, e.Message);
        }
    }

    /// <summary>Writes --flamegraph and --folded files (an empty graph that says so when there was no growth).</summary>
    public void WriteFiles(AttributionResult result)
    {
        try
        {
            if (FoldedPath is not null)
            {
                File.WriteAllLines(FoldedPath, result.FoldedStacks);
            }

            if (FlameGraphPath is not null)
            {
                File.WriteAllText(FlameGraphPath, FlameGraphSvg.Render(result.FoldedStacks,
                    $"memwatch: growth of pid {result.Pid} over {result.Seconds:0.0} s by call stack (bytes still resident)"));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Failure, $"cannot write the attribution output: {e.Message}");
        }
    }
}
