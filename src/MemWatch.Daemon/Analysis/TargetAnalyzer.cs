using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Assessment;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Verdicts;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Analysis;

/// <summary>
/// Hands what the sampler and the remediator keep on a <see cref="TargetState"/> to Probes'
/// <see cref="ProcessAssessment"/> (the same entry point as <c>inspect --watch</c>) and logs a forecast or verdict
/// change once. The allocator's parameters are resolved from the environment once per process incarnation.
/// </summary>
/// <remarks>Runs on the sampler thread with the target's lock held (the window belongs to it); not thread safe.</remarks>
internal sealed partial class TargetAnalyzer
{
    // 2048 pairwise slopes per trend (of up to ~260 000 in an hour at 5 s) keep the median and its interval stable
    // while a rollup of hundreds of targets stays cheap.
    private readonly ProcessAssessment _assessment = new(maxPairs: 2048);
    private readonly ProcFileSystem _fs;
    private readonly FileBuffer _buffer = new(16 * 1024);
    private readonly int _onlineCpus = System.Environment.ProcessorCount;
    private readonly ILogger _log;

    public TargetAnalyzer(ProcFileSystem fs, ILogger<TargetAnalyzer> log)
    {
        _fs = fs;
        _log = log;
    }

    /// <summary>Assesses <paramref name="target"/>; call with its lock held.</summary>
    /// <param name="host">/proc/meminfo of this tick.</param>
    /// <param name="hostPressure">/proc/pressure/memory of this tick; null without PSI.</param>
    public TargetAnalysis Analyze(TargetState target, Meminfo? host, long unixMilliseconds, PressureStall? hostPressure = null)
    {
        var input = new AssessmentInput
        {
            Window = target.Window,
            Layout = target.LayoutModel,
            EarliestLayout = target.EarliestLayoutModel,
            Threads = target.Counters.Threads,
            EarliestThreads = ReferenceEquals(target.EarliestLayoutModel, target.LayoutModel) ? 0 : target.EarliestLayoutThreads,
            Runtime = target.Runtime ?? RuntimeKind.None,
            RuntimeHeap = target.RuntimeHeap?.Reading.Figures,
            EarliestRuntimeHeap = target.EarliestRuntimeHeap?.Reading.Figures,
            Parameters = ParametersOf(target),
            LatestStatistics = target.LatestStatistics,
            EarliestStatistics = target.EarliestStatistics,
            Managed = target.DotNet?.Figures,
            EarliestManaged = target.EarliestDotNet?.Figures,
            LastTrim = target.TrimTracker?.Result,
            Cgroup = target.Cgroup is { } cg ? new ChargedMemory(cg.EffectiveLimitBytes, cg.UsageBytes, cg.ReclaimableBytes, cg.Pressure) : null,
            Host = host,
            HostPressure = hostPressure,
        };
        MemoryAssessment assessment = _assessment.Assess(input);
        ForecastResult forecast = assessment.Forecast;
        Verdict? verdict = assessment.Verdict;

        TargetAnalysis? previous = target.Analysis;
        // Only entering or leaving a forecast is news; flapping between the reasons for no forecast is not.
        if (IsForecasting(forecast) != (previous is not null && IsForecasting(previous.Forecast)))
        {
            _log.ForecastChanged(target.Pid, target.Comm, forecast.Outcome, forecast.Reason);
        }

        if (verdict is not null && previous?.Verdict?.Kind != verdict.Kind)
        {
            _log.VerdictChanged(target.Pid, target.Comm, verdict.KindName, verdict.Confidence, verdict.Summary);
        }

        return new TargetAnalysis(unixMilliseconds, assessment.Growth, forecast, verdict);
    }

    private static bool IsForecasting(ForecastResult f) => f.Outcome is ForecastOutcome.Forecast or ForecastOutcome.AtLimit;

    /// <summary>
    /// The allocator's effective parameters, resolved from the environment once the allocator is known (the first full
    /// smaps tells it) and kept for the incarnation; the environment is dropped then.
    /// </summary>
    private ProcessParameters ParametersOf(TargetState target)
    {
        AllocatorKind kind = target.LayoutModel?.Allocator.Kind ?? AllocatorKind.Unknown;
        if (target.Parameters is { } known && target.ParametersFor == kind && target.ParametersRuntime == target.Runtime)
        {
            return known;
        }

        if (target.Window.Count < ProcessAssessment.MinSamples)
        {
            return ProcessParameters.None;
        }

        ProcessParameters resolved = ProcessParameters.Resolve(kind, EnvironmentOf(target), _onlineCpus,
            target.Runtime ?? RuntimeKind.None, target.Comm, ArgumentsOf(target));
        target.Parameters = resolved;
        target.ParametersFor = kind;
        target.ParametersRuntime = target.Runtime;
        // Kept until both the allocator and the runtime are known: GOMEMLIMIT and NODE_OPTIONS are read from it.
        if (kind != AllocatorKind.Unknown && target.Runtime is not null)
        {
            target.Environment = ProcEnviron.Empty;
        }

        return resolved;
    }

    /// <summary>The command line, for the limit the process declares; read when the parameters are resolved, not kept.</summary>
    private IReadOnlyList<string> ArgumentsOf(TargetState target)
    {
        try
        {
            return ProcCmdline.TryRead(_fs, target.Pid, _buffer, out ProcCmdline? c) ? c.Arguments : [];
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or MemWatch.Probes.ProcParseException)
        {
            return [];
        }
    }

    private ProcEnviron? EnvironmentOf(TargetState target)
    {
        if (target.Environment is null)
        {
            try
            {
                // An unreadable environ (another user's process under hidepid, a zombie) leaves the defaults; not retried.
                target.Environment = ProcEnviron.TryRead(_fs, target.Pid, _buffer, out ProcEnviron? e) ? e : ProcEnviron.Empty;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException or MemWatch.Probes.ProcParseException)
            {
                target.Environment = ProcEnviron.Empty;
            }
        }

        return target.Environment.Count == 0 ? null : target.Environment;
    }
}
