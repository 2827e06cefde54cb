using System.Text.Json;
using MemWatch.Daemon.Reports;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Assessment;
using MemWatch.Probes.Attribution;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Runtimes.Node;
using MemWatch.Probes.Snapshots;
using MemWatch.Probes.Symbols;

namespace MemWatch.Daemon.Cli;

/// <summary><c>memwatch inspect PID [--json] [--watch SECONDS] [--introspect] [--dotnet]</c>: one process's memory, by region, with its cgroup.</summary>
internal static class InspectCommand
{
    /// <summary>Longest time one remote call of --introspect may run in the target.</summary>
    private static readonly TimeSpan s_introspectCallTimeout = TimeSpan.FromSeconds(10);

    public static int Run(ProcFileSystem fs, int pid, bool json, double? watchSeconds, TextWriter stdout, CancellationToken cancel, bool introspect = false,
        AttributionRequest? attribute = null, bool askDotNet = false)
    {
        // Asking the runtime opens a session in the target: only when the user asked (--dotnet, or --introspect, which
        // asks the process itself); otherwise inspect reads /proc and connects to nothing.
        bool dotnetAsked = askDotNet || introspect;
        var reader = new ProcessSnapshotReader(fs, new CgroupMemoryReader(new CgroupResolver(fs)));
        ProcessSnapshot snapshot = Capture(reader, pid, SnapshotDepth.Full);

        // Only with --introspect is anything injected; a refusal is reported in the document, not as a failure.
        AllocatorIntrospectionResult? earliestIntrospection = introspect && watchSeconds is not null ? Introspect(pid) : null;
        DotNetInspection? earliestDotNet = watchSeconds is not null ? DotNetInspection.Read(fs, snapshot, dotnetAsked) : null;
        (RuntimeKind runtime, TargetSymbols? symbols) = DetectRuntime(fs, pid);
        RuntimeReading? earliestRuntime = watchSeconds is not null ? ReadRuntime(fs, pid, runtime, snapshot.Status, symbols, introspect) : null;
        DotNetInspection? dotnet;
        ProcessSnapshot? earliest = null;
        SampleWindow? window = null;
        AllocatorIntrospectionResult? introspection;
        ProcEnviron? environment;
        Meminfo? host = null;
        PressureStall? hostPressure = null;
        AttributionResult? attributionResult = null;
        if (watchSeconds is { } seconds)
        {
            earliest = snapshot;

            // The capture runs beside the window's sampling, over the same seconds.
            Task<AttributionResult?>? capture = attribute is not null ? AttributionRequest.Start(pid, seconds, cancel) : null;
            window = Watch(reader, snapshot, seconds, cancel);
            attributionResult = capture is not null ? AttributionRequest.Wait(capture, pid) : null;

            // The report describes the end of the window.
            snapshot = Capture(reader, pid, SnapshotDepth.Full);
            window.Add(snapshot.ToSample());
            introspection = introspect ? Introspect(pid) : null;
            dotnet = DotNetInspection.Read(fs, snapshot, dotnetAsked);
            var buffer = new FileBuffer();
            environment = ReadEnvironment(fs, pid, buffer);
            host = Meminfo.TryRead(fs, buffer, out Meminfo? meminfo) ? meminfo : null;
            hostPressure = PressureStall.TryReadSystem(fs, buffer, out PressureStall? psi) ? psi : null;
        }
        else
        {
            introspection = introspect ? Introspect(pid) : null;
            dotnet = DotNetInspection.Read(fs, snapshot, dotnetAsked);
            environment = ReadEnvironment(fs, pid, new FileBuffer());
        }

        RuntimeReading runtimeReading = ReadRuntime(fs, pid, runtime, snapshot.Status, symbols, introspect);
        InspectReport report = Compose(snapshot, earliest, window, environment, host, hostPressure,
            introspection, earliestIntrospection, dotnet, earliestDotNet, runtimeReading: runtimeReading, earliestRuntime: earliestRuntime);
        if (attributionResult is not null && attribute is not null)
        {
            report = report with { Attribution = AttributionReport.From(attributionResult) };
            attribute.WriteFiles(attributionResult);
        }

        stdout.Write(json
            ? JsonSerializer.Serialize(report, ReportJsonContext.Default.InspectReport) + Environment.NewLine
            : InspectReportText.Render(report));
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The report from what was read: <paramref name="latest"/> alone, or with a watched window its growth, forecast
    /// and verdict through <see cref="ProcessAssessment"/> (the daemon's entry point too). Reads nothing.
    /// </summary>
    /// <param name="onlineCpus">For the allocator's default arena count; this machine's when null.</param>
    internal static InspectReport Compose(ProcessSnapshot latest, ProcessSnapshot? earliest, SampleWindow? window, ProcEnviron? environment,
        Meminfo? host, PressureStall? hostPressure, AllocatorIntrospectionResult? introspection, AllocatorIntrospectionResult? earliestIntrospection,
        DotNetInspection? dotnet, DotNetInspection? earliestDotNet, int? onlineCpus = null,
        RuntimeReading? runtimeReading = null, RuntimeReading? earliestRuntime = null)
    {
        RuntimeKind runtime = runtimeReading?.Runtime ?? RuntimeKind.None;
        ProcessParameters parameters = ProcessParameters.Resolve(latest.Layout?.Allocator.Kind ?? AllocatorKind.Unknown, environment,
            onlineCpus ?? Environment.ProcessorCount, runtime, latest.Status.Name, latest.CommandLine?.Arguments);
        WindowGrowth? growth = null;
        VerdictReport? verdict = null;
        ForecastReport? forecast = null;
        if (window is not null)
        {
            // The allocator's figures at both ends of the window let the classifier tell live growth from retention.
            MemoryAssessment assessment = new ProcessAssessment().Assess(new AssessmentInput
            {
                Window = window,
                Layout = latest.Layout,
                EarliestLayout = earliest?.Layout,
                Threads = latest.Status.Threads,
                EarliestThreads = earliest?.Status.Threads ?? 0,
                Runtime = runtime,
                RuntimeHeap = runtimeReading?.Figures,
                EarliestRuntimeHeap = earliestRuntime?.Figures,
                Parameters = parameters,
                LatestStatistics = introspection?.Statistics,
                EarliestStatistics = earliestIntrospection?.Statistics,
                Managed = dotnet?.Figures,
                EarliestManaged = earliestDotNet?.Figures,
                Cgroup = latest.Cgroup is { } cg
                    ? new ChargedMemory(cg.EffectiveLimitBytes ?? cg.LimitBytes, cg.UsageBytes, cg.Stat?.InactiveFileBytes, cg.Pressure)
                    : null,
                Host = host,
                HostPressure = hostPressure,
            });
            growth = assessment.Growth;
            verdict = assessment.Verdict is { } v ? VerdictReportBuilder.Build(v) : null;
            forecast = VerdictReportBuilder.BuildForecast(assessment.Forecast, assessment.Declared);
        }

        InspectReport report = InspectReportBuilder.Build(latest, window, growth) with
        {
            Verdict = verdict,
            Forecast = forecast,
            Runtime = RuntimeReportBuilder.Build(runtimeReading, parameters.DeclaredLimit),
        };
        report = dotnet?.AddTo(report, latest) ?? report;
        if (introspection is not null)
        {
            report = report with { Allocator = report.Allocator.WithIntrospection(introspection) };
        }

        return report;
    }

    /// <summary>The runtime of the process from its modules; none when they cannot be read (the rest of the report still can).</summary>
    private static (RuntimeKind, TargetSymbols?) DetectRuntime(ProcFileSystem fs, int pid)
    {
        try
        {
            return TargetSymbols.TryLoad(fs, pid, new FileBuffer(), out TargetSymbols? symbols)
                ? (RuntimeProbe.Detect(symbols), symbols)
                : (RuntimeKind.None, null);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or MemWatch.Probes.ProcParseException)
        {
            return (RuntimeKind.None, null);
        }
    }

    private static AllocatorIntrospectionResult Introspect(int pid) => AllocatorIntrospection.Read(pid, s_introspectCallTimeout);

    /// <summary>The runtime's figures: read passively, or for V8 (which publishes none) asked through remote calls with --introspect.</summary>
    private static RuntimeReading ReadRuntime(ProcFileSystem fs, int pid, RuntimeKind runtime, ProcStatus status, TargetSymbols? symbols, bool introspect)
    {
        if (!introspect || runtime != RuntimeKind.Node)
        {
            return RuntimeProbe.Read(fs, pid, runtime, status, symbols);
        }

        try
        {
            return V8Introspection.Read(pid, s_introspectCallTimeout);
        }
        catch (RemoteCallException e)
        {
            return new RuntimeReading(runtime, null, $"node: {e.Message}");
        }
    }

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
