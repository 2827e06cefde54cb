using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Assessment;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Probes.Tests.Verdicts;

/// <summary>
/// The rules that read runtimes' heap figures, RssShmem, thread counts and declared limits, on synthetic windows
/// (the real programs are in the integration tests' runtime corpus). Each test also shows what the rule displaces.
/// </summary>
public sealed class RuntimeVerdictTests
{
    private const ulong MiB = 1UL << 20;

    /// <summary>60 s, RSS and the chosen series growing by <paramref name="perSecond"/> bytes each second, faulting as it grows.</summary>
    private static SampleWindow Window(ulong rss0, ulong perSecond, bool shmem = false, ulong anon0 = 0)
    {
        var w = new SampleWindow(128, TimeSpan.FromHours(1));
        for (int i = 0; i <= 60; i++)
        {
            ulong grown = (ulong)i * perSecond;
            ulong anon = (anon0 == 0 ? rss0 : anon0) + (shmem ? 0 : grown);
            ulong shm = shmem ? grown : 0;
            w.Add(new MemorySample(i * 1000L, 1, rss0 + grown, anon, 0, shm, 0, (ulong)i * (perSecond == 0 ? 0 : 512UL), 0));
        }

        return w;
    }

    private static Verdict Classify(ClassifierInput input) => Classifier.Classify(input);

    private static ClassifierInput Input(SampleWindow w) => new() { Window = w, Growth = new GrowthAnalyzer().Analyze(w) };

    [Fact]
    public void ThreadCountGrowing_IsLeakWithThreadLeakMechanism()
    {
        ClassifierInput input = Input(Window(100 * MiB, 200 * 1024)) with { EarliestThreads = 10, Threads = 110 };

        Verdict v = Classify(input);

        Assert.Equal(VerdictKind.Leak, v.Kind);
        Assert.Equal("thread-leak", v.MechanismName);
        Assert.Contains(v.Evidence, e => e.Contains("threads 10 -> 110", StringComparison.Ordinal));
        Assert.Null(Classify(input with { EarliestThreads = 108 }).MechanismName);
    }

    [Fact]
    public void RssShmemCarryingTheGrowth_IsSharedMemoryGrowthNeverALeak()
    {
        ClassifierInput input = Input(Window(100 * MiB, 2 * MiB, shmem: true));

        Verdict v = Classify(input);

        Assert.Equal(VerdictKind.SharedMemoryGrowth, v.Kind);
        Assert.Contains(v.Evidence, e => e.Contains("RssShmem", StringComparison.Ordinal));
    }

    [Fact]
    public void SharedMemoryGrowth_ForecastCountsOnlyThePrivateGrowth()
    {
        // The cgroup is charged for the shared segment once: a backend touching more of it brings no limit nearer.
        var assessment = new ProcessAssessment().Assess(new AssessmentInput
        {
            Window = Window(100 * MiB, 2 * MiB, shmem: true),
            Cgroup = new ChargedMemory(1024 * MiB, 900 * MiB, 0, null),
        });

        Assert.Equal(VerdictKind.SharedMemoryGrowth, assessment.Verdict!.Kind);
        Assert.Equal(ForecastOutcome.NotGrowing, assessment.Forecast.Outcome);
        Assert.Equal(ForecastOutcome.Forecast, new ProcessAssessment().Assess(new AssessmentInput
        {
            Window = Window(100 * MiB, 2 * MiB),
            Cgroup = new ChargedMemory(1024 * MiB, 900 * MiB, 0, null),
        }).Forecast.Outcome);
    }

    [Fact]
    public void CacheFillingTowardItsDeclaredLimit_IsBoundedCacheGrowth_AndTheForecastSaysWhichLimitIsFirst()
    {
        var limit = new DeclaredLimit(512 * MiB, "memcached -m 512", DeclaredLimit.Cache);
        Verdict v = Classify(Input(Window(100 * MiB, 4 * MiB)) with { DeclaredLimit = limit });
        Assert.Equal(VerdictKind.BoundedCacheGrowth, v.Kind);
        Assert.Contains("memcached -m 512", v.Summary, StringComparison.Ordinal);

        // Far past its limit and its overhead, a cache that still grows is not bounded.
        Assert.Equal(VerdictKind.Leak, Classify(Input(Window(2048 * MiB, 4 * MiB)) with { DeclaredLimit = limit }).Kind);

        MemoryAssessment a = new ProcessAssessment().Assess(new AssessmentInput
        {
            Window = Window(100 * MiB, 4 * MiB),
            Parameters = new ProcessParameters { DeclaredLimit = limit },
            Cgroup = new ChargedMemory(4096 * MiB, 1024 * MiB, 0, null),
        });
        Assert.True(a.Declared!.ComesFirst);
        Assert.InRange(a.Declared.SecondsToLimit!.Value, 30, 80);
    }

    [Fact]
    public void GcHeapGrowingBelowItsMaximum_IsManagedHeapGrowthWithTheDistance()
    {
        SampleWindow w = Window(200 * MiB, 2 * MiB);
        var then = new RuntimeHeapFigures { Runtime = RuntimeKind.Jvm, Source = "hsperfdata", UsedBytes = 50 * MiB, CommittedBytes = 100 * MiB, MaxBytes = 512 * MiB };
        var now = then with { UsedBytes = 170 * MiB, CommittedBytes = 220 * MiB };

        Verdict v = Classify(Input(w) with { Runtime = RuntimeKind.Jvm, RuntimeHeap = now, EarliestRuntimeHeap = then });

        Assert.Equal(VerdictKind.ManagedHeapGrowth, v.Kind);
        Assert.Contains("292 MiB below its maximum 512 MiB", v.Summary, StringComparison.Ordinal);

        // A Go heap with no GOMEMLIMIT has no maximum: its live objects growing is a leak.
        var go0 = new RuntimeHeapFigures { Runtime = RuntimeKind.Go, Source = "runtime.memstats", UsedBytes = 50 * MiB, CommittedBytes = 60 * MiB };
        Assert.Equal(VerdictKind.Leak, Classify(Input(w) with
        {
            Runtime = RuntimeKind.Go,
            RuntimeHeap = go0 with { UsedBytes = 170 * MiB, CommittedBytes = 180 * MiB },
            EarliestRuntimeHeap = go0,
        }).Kind);
    }

    [Fact]
    public void NodeWithoutFigures_AnonymousGrowthIsManagedHeapGrowthNotALeak()
    {
        ClassifierInput input = Input(Window(200 * MiB, 2 * MiB));
        Assert.Equal(VerdictKind.Leak, Classify(input).Kind);

        Verdict v = Classify(input with { Runtime = RuntimeKind.Node, DeclaredLimit = new DeclaredLimit(1024 * MiB, "--max-old-space-size=1024", DeclaredLimit.Heap) });

        Assert.Equal(VerdictKind.ManagedHeapGrowth, v.Kind);
        Assert.Contains("--max-old-space-size=1024", v.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void PymallocArenasHeldBySurvivors_IsRetentionNamingTheMechanism()
    {
        SampleWindow w = Window(520 * MiB, 0, anon0: 514 * MiB);
        var pymalloc = new RuntimeHeapFigures
        {
            Runtime = RuntimeKind.CPython, Source = "pymalloc arenas", UsedBytes = 6 * MiB, CommittedBytes = 514 * MiB, Arenas = 514, PoolsInUse = 32000, PoolsFree = 10, PoolsInUseBytes = 500 * MiB,
        };
        ClassifierInput input = Input(w) with { Runtime = RuntimeKind.CPython };
        Assert.Equal(VerdictKind.Stable, Classify(input).Kind);

        Verdict v = Classify(input with { RuntimeHeap = pymalloc, EarliestRuntimeHeap = pymalloc });

        Assert.Equal(VerdictKind.AllocatorRetention, v.Kind);
        Assert.Equal(RetentionMechanismKind.PymallocArenaPinned, v.Mechanism);
        Assert.Equal("pymalloc-arena-pinned", v.MechanismName);
    }

    [Fact]
    public void GcHeapAtASteadySize_IsStableWithItsDistanceToTheMaximum()
    {
        SampleWindow w = Window(300 * MiB, 0);
        var jvm = new RuntimeHeapFigures { Runtime = RuntimeKind.Jvm, Source = "hsperfdata", UsedBytes = 100 * MiB, CommittedBytes = 250 * MiB, MaxBytes = 512 * MiB };

        Verdict v = Classify(Input(w) with { Runtime = RuntimeKind.Jvm, RuntimeHeap = jvm, EarliestRuntimeHeap = jvm });

        Assert.Equal(VerdictKind.Stable, v.Kind);
        Assert.Contains("below its maximum 512 MiB", v.Summary, StringComparison.Ordinal);
    }
}
