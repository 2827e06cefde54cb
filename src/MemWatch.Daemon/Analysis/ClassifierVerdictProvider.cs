using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Daemon.Analysis;

/// <summary>
/// The verdict of Probes' <see cref="Classifier"/> for a target, from what the sampler and the remediator keep on its
/// <see cref="TargetState"/>: the window and its growth, the region models at both ends of the window (full smaps), the
/// allocator's statistics at both ends (introspected targets), the allocator's effective parameters from the
/// environment (read once per process incarnation), and what became of the last trim.
/// </summary>
/// <remarks>
/// Runs on the sampler thread at the rollup cadence with the target's lock held. It reads no file except environ, once
/// per incarnation; the classifier itself allocates only its answer (a few strings). Not thread safe (one sampler).
/// </remarks>
public sealed class ClassifierVerdictProvider : IVerdictProvider
{
    /// <summary>Below this many samples the trend says nothing yet: no verdict rather than a guess.</summary>
    public const int MinSamples = 3;

    private readonly ProcFileSystem _fs;
    private readonly FileBuffer _buffer = new(16 * 1024);
    private readonly int _onlineCpus = System.Environment.ProcessorCount;

    public ClassifierVerdictProvider(ProcFileSystem fs)
    {
        _fs = fs;
    }

    public VerdictAssessment? Assess(VerdictInput input)
    {
        if (input.Window.Count < MinSamples || input.Target is not { } target)
        {
            return null;
        }

        ClassifierInput? parameters = ParametersOf(target, input);
        var classifierInput = new ClassifierInput
        {
            Window = input.Window,
            Growth = input.Growth,
            Layout = target.LayoutModel,
            EarliestLayout = ReferenceEquals(target.EarliestLayoutModel, target.LayoutModel) ? null : target.EarliestLayoutModel,
            Threads = target.Counters.Threads,
            Glibc = parameters?.Glibc,
            Jemalloc = parameters?.Jemalloc,
            Tcmalloc = parameters?.Tcmalloc,
            LatestStatistics = target.LatestStatistics,
            EarliestStatistics = ReferenceEquals(target.EarliestStatistics, target.LatestStatistics) ? null : target.EarliestStatistics,
            LastTrim = target.TrimTracker?.Result,
            Managed = target.DotNet?.Figures,
            EarliestManaged = ReferenceEquals(target.EarliestDotNet, target.DotNet) ? null : target.EarliestDotNet?.Figures,
        };

        Verdict verdict = Classifier.Classify(classifierInput);
        return new VerdictAssessment(verdict.KindName, verdict.Confidence, verdict.Summary) { Detail = verdict };
    }

    /// <summary>
    /// The allocator's effective parameters, resolved from the environment once the allocator is known (the first full
    /// smaps tells it) and kept for the incarnation; the environment is dropped then.
    /// </summary>
    private ClassifierInput? ParametersOf(TargetState target, VerdictInput input)
    {
        AllocatorKind kind = target.LayoutModel?.Allocator.Kind ?? AllocatorKind.Unknown;
        if (target.AllocatorParameters is not null && target.AllocatorParametersFor == kind)
        {
            return target.AllocatorParameters;
        }

        if (EnvironmentOf(target) is not { } environment)
        {
            return null;
        }

        var bare = new ClassifierInput { Window = input.Window, Growth = input.Growth, Layout = target.LayoutModel };
        ClassifierInput resolved = bare.WithAllocatorParameters(environment, _onlineCpus);
        target.AllocatorParameters = resolved with { Window = EmptyWindow, Layout = null };
        target.AllocatorParametersFor = kind;
        if (kind != AllocatorKind.Unknown)
        {
            target.Environment = ProcEnviron.Empty;
        }

        return target.AllocatorParameters;
    }

    // Parameters are kept without the window they were resolved with (it belongs to the target, not to them).
    private static readonly SampleWindow EmptyWindow = new(2, TimeSpan.FromSeconds(1));

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
