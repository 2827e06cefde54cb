using System.Text.Json;
using MemWatch.Daemon.Reports;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Snapshots;

namespace MemWatch.Daemon.Cli;

/// <summary><c>memwatch inspect PID [--json] [--watch SECONDS] [--introspect] [--dotnet]</c>: one process's memory, by region, with its cgroup.</summary>
internal static class InspectCommand
{
    /// <summary>Longest time one remote call of --introspect may run in the target.</summary>
    private static readonly TimeSpan s_introspectCallTimeout = TimeSpan.FromSeconds(10);

    public static int Run(int pid, bool json, double? watchSeconds, TextWriter stdout, CancellationToken cancel, bool introspect = false, bool askDotNet = false)
    {
        // Asking the runtime opens a session in the target: only when the user asked (--dotnet, or --introspect, which
        // asks the process itself); otherwise inspect reads /proc and connects to nothing.
        bool dotnetAsked = askDotNet || introspect;
        var fs = ProcFileSystem.Default;
        var reader = new ProcessSnapshotReader(fs, new CgroupMemoryReader());
        ProcessSnapshot snapshot = Capture(reader, pid, SnapshotDepth.Full);

        // Only with --introspect is anything injected; a refusal is reported in the document, not as a failure.
        AllocatorIntrospectionResult? earliestIntrospection = introspect && watchSeconds is not null ? Introspect(pid) : null;
        DotNetInspection? earliestDotNet = watchSeconds is not null ? DotNetInspection.Read(snapshot, dotnetAsked) : null;
        DotNetInspection? dotnet;
        SampleWindow? window = null;
        WindowGrowth? growth = null;
        VerdictReport? verdict = null;
        ForecastReport? forecast = null;
        AllocatorIntrospectionResult? introspection = null;
        if (watchSeconds is { } seconds)
        {
            ProcessSnapshot earliest = snapshot;
            window = Watch(reader, snapshot, seconds, cancel);

            // The report describes the end of the window.
            snapshot = Capture(reader, pid, SnapshotDepth.Full);
            window.Add(snapshot.ToSample());
            growth = new GrowthAnalyzer().Analyze(window);
            introspection = introspect ? Introspect(pid) : null;
            dotnet = DotNetInspection.Read(snapshot, dotnetAsked);

            // The allocator's figures at both ends of the window let the classifier tell live growth from retention.
            var buffer = new FileBuffer();
            verdict = VerdictReportBuilder.Build(VerdictReportBuilder.Classify(earliest, snapshot, window, growth, ReadEnvironment(fs, pid, buffer),
                introspection?.Statistics, earliestIntrospection?.Statistics, dotnet?.Figures, earliestDotNet?.Figures));
            forecast = VerdictReportBuilder.BuildForecast(snapshot, growth,
                Meminfo.TryRead(fs, buffer, out Meminfo? meminfo) ? meminfo : null,
                PressureStall.TryReadSystem(fs, buffer, out PressureStall? psi) ? psi : null);
        }
        else
        {
            introspection = introspect ? Introspect(pid) : null;
            dotnet = DotNetInspection.Read(snapshot, dotnetAsked);
        }

        InspectReport report = InspectReportBuilder.Build(snapshot, window, growth) with { Verdict = verdict, Forecast = forecast };
        report = dotnet?.AddTo(report, snapshot) ?? report;
        if (introspection is not null)
        {
            report = report with { Allocator = report.Allocator.WithIntrospection(introspection) };
        }

        stdout.Write(json
            ? JsonSerializer.Serialize(report, ReportJsonContext.Default.InspectReport) + Environment.NewLine
            : InspectReportText.Render(report));
        return ExitCodes.Ok;
    }

    private static AllocatorIntrospectionResult Introspect(int pid) => AllocatorIntrospection.Read(pid, s_introspectCallTimeout);

    /// <summary>The environment for the allocator's effective parameters; null (defaults) when it cannot be read.</summary>
    private static ProcEnviron? ReadEnvironment(ProcFileSystem fs, int pid, FileBuffer buffer)
    {
        try
        {
            return ProcEnviron.TryRead(fs, pid, buffer, out ProcEnviron? e) ? e : null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Samples the cheap counters over the window: about 20 samples, at most one every 200 ms.</summary>
    private static SampleWindow Watch(ProcessSnapshotReader reader, ProcessSnapshot first, double seconds, CancellationToken cancel)
    {
        TimeSpan interval = TimeSpan.FromSeconds(Math.Clamp(seconds / 20, 0.2, 5));
        var window = new SampleWindow(capacity: (int)(seconds / interval.TotalSeconds) + 4, maxAge: TimeSpan.FromSeconds(seconds + 60));
        window.Add(first.ToSample());
        long end = Environment.TickCount64 + (long)(seconds * 1000);
        while (Environment.TickCount64 < end)
        {
            long wait = Math.Min((long)interval.TotalMilliseconds, end - Environment.TickCount64);
            if (wait > 0 && cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(wait)))
            {
                break;
            }

            window.Add(Capture(reader, first.Pid, SnapshotDepth.Counters).ToSample());
        }

        return window;
    }

    private static ProcessSnapshot Capture(ProcessSnapshotReader reader, int pid, SnapshotDepth depth)
    {
        try
        {
            if (!reader.TryCapture(pid, depth, out ProcessSnapshot? snapshot))
            {
                throw new CliException(ExitCodes.NoSuchProcess, $"no such process: {pid}");
            }

            return snapshot;
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException(
                ExitCodes.PermissionDenied,
                $"permission denied reading /proc/{pid}: run as the process's user, as root, or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH");
        }
    }
}
