using System.Globalization;
using System.Text.Json;
using MemWatch.Daemon.Reports;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Daemon.Cli;

/// <summary><c>memwatch gc PID [--json]</c>: induce one full blocking GC in a .NET process and show what it freed.</summary>
internal static class GcCommand
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);

    public static int Run(ProcFileSystem fs, int pid, bool json, TextWriter stdout)
    {
        // The runtime names its socket with its own start time: a socket whose key is the start time read here can only
        // reach this process, never one that takes the PID later. Otherwise (another time namespace) the start time is
        // checked again after the GC.
        ulong startTime = StartTime(fs, pid) ?? throw new CliException(ExitCodes.NoSuchProcess, $"no such process: {pid}");
        DiagnosticEndpoint endpoint = Locate(fs, pid);
        if (StartTime(fs, pid) != startTime)
        {
            throw new CliException(ExitCodes.NoSuchProcess, $"no such process: {pid} (it exited; the PID now names another process)");
        }

        ulong? rssBefore = Rss(fs, pid);
        GcTriggerResult result;
        try
        {
            result = new GcTrigger().Trigger(endpoint, s_timeout);
        }
        catch (DotNetDiagnosticsException e)
        {
            throw ToCliException(fs, pid, e);
        }

        if (endpoint.DisambiguationKey != startTime && StartTime(fs, pid) != startTime)
        {
            throw new CliException(ExitCodes.NoSuchProcess, $"process {pid} exited during the GC request and its PID now names another process; which one the GC reached is unknown");
        }

        var report = new GcReport
        {
            Pid = pid,
            Result = result.ReclaimedBytes > 0 ? "released" : "requested",
            HeapBeforeBytes = result.HeapBeforeBytes,
            HeapAfterBytes = result.HeapAfterBytes,
            ReclaimedBytes = result.ReclaimedBytes,
            CommittedBeforeBytes = result.CommittedBeforeBytes,
            CommittedAfterBytes = result.CommittedAfterBytes,
            RssBeforeBytes = rssBefore,
            RssAfterBytes = Rss(fs, pid),
            GcObserved = result.GcObserved,
            PauseMilliseconds = result.PauseDuration?.TotalMilliseconds,
            DurationMilliseconds = result.Duration.TotalMilliseconds,
        };
        stdout.Write(json
            ? JsonSerializer.Serialize(report, ReportJsonContext.Default.GcReport) + Environment.NewLine
            : Render(report));
        return ExitCodes.Ok;
    }

    /// <summary>The diagnostic endpoint of a .NET process, or the CLI error for a missing or non-.NET process.</summary>
    internal static DiagnosticEndpoint Locate(ProcFileSystem fs, int pid)
    {
        try
        {
            if (new DiagnosticEndpointLocator(fs).TryLocate(pid, out DiagnosticEndpoint? endpoint))
            {
                return endpoint;
            }
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.PermissionDenied, $"permission denied looking into /proc/{pid}/root: run as the process's user or as root");
        }

        if (!Directory.Exists(fs.ProcessDirectory(pid)))
        {
            throw new CliException(ExitCodes.NoSuchProcess, $"no such process: {pid}");
        }

        throw new CliException(ExitCodes.NotDotNet, $"not a .NET process: {pid} has no diagnostic socket (or runs with DOTNET_EnableDiagnostics=0)");
    }

    internal static CliException ToCliException(ProcFileSystem fs, int pid, DotNetDiagnosticsException e) => e.Reason switch
    {
        DotNetDiagnosticsFailure.PermissionDenied => new CliException(ExitCodes.PermissionDenied, $"permission denied on the diagnostic socket of {pid}: run as its user or as root"),
        DotNetDiagnosticsFailure.Unsafe => new CliException(ExitCodes.RefusedUnsafe, $".NET diagnostics of {pid} refused: {e.Message}"),
        DotNetDiagnosticsFailure.Unreachable when !Directory.Exists(fs.ProcessDirectory(pid))
            => new CliException(ExitCodes.NoSuchProcess, $"no such process: {pid} (it exited)"),
        _ => new CliException(ExitCodes.Failure, $".NET diagnostics of {pid} failed: {e.Message}"),
    };

    private static ulong? StartTime(ProcFileSystem fs, int pid) =>
        ProcStat.TryRead(fs, pid, new FileBuffer(4096), out ProcStat? stat) ? stat.StartTimeTicks : null;

    private static ulong? Rss(ProcFileSystem fs, int pid) => Remediation.ResidentSize.Read(fs, pid);

    private static string Render(GcReport r)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        var text = new System.Text.StringBuilder();
        text.Append(inv, $"pid {r.Pid}: full blocking GC {(r.GcObserved ? "ran" : "requested (no GC event seen)")}");
        if (r.PauseMilliseconds is { } pause)
        {
            text.Append(inv, $", pause {pause:0.0} ms");
        }

        text.AppendLine();
        text.Append(inv, $"GC heap {ByteSize.Format(r.HeapBeforeBytes)} -> {ByteSize.Format(r.HeapAfterBytes)} (freed {ByteSize.Format(r.ReclaimedBytes)})");
        text.Append(inv, $"  committed {ByteSize.Format(r.CommittedBeforeBytes)} -> {ByteSize.Format(r.CommittedAfterBytes)}");
        text.Append(inv, $"  RSS {ByteSize.Format(r.RssBeforeBytes)} -> {ByteSize.Format(r.RssAfterBytes)}").AppendLine();
        return text.ToString();
    }
}
