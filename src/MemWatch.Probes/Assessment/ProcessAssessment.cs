using MemWatch.Probes.Analysis;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Probes.Assessment;

/// <summary>
/// The one place where a window of samples becomes growth, forecast and verdict: <c>memwatch inspect --watch</c> and
/// the daemon both call <see cref="Assess"/>, so a rule changed here changes both.
/// </summary>
/// <remarks>Keeps the growth analyzer's scratch between calls: not thread safe (one per sampler, one per CLI run).</remarks>
public sealed class ProcessAssessment
{
    /// <summary>Below this many samples the trend says nothing yet: no verdict rather than a guess.</summary>
    public const int MinSamples = 3;

    private readonly GrowthAnalyzer _growth;
    private readonly ClassifierOptions _options;

    /// <param name="maxPairs">Pairwise slopes per trend (the daemon caps them to keep rollups of hundreds of targets cheap).</param>
    /// <param name="options">The classifier's thresholds; the documented defaults when null.</param>
    public ProcessAssessment(int maxPairs = TheilSen.DefaultMaxPairs, ClassifierOptions? options = null)
    {
        _growth = new GrowthAnalyzer(maxPairs);
        _options = options ?? ClassifierOptions.Default;
    }

    public MemoryAssessment Assess(AssessmentInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        WindowGrowth growth = _growth.Analyze(input.Window);
        ForecastInput forecastInput = ForecastInputOf(input, growth);
        if (SharedCarriesGrowth(input.Window, growth))
        {
            // Shared pages are charged to the cgroup once, when first touched by any process: this process touching
            // more of them adds nothing to the charge. Only its private (anonymous) growth counts.
            forecastInput = forecastInput with { ProcessTrend = growth.Anon, RecentProcessTrend = null };
        }

        ForecastResult forecast = Forecast.ToLimit(forecastInput);
        Verdict? verdict = input.Window.Count < MinSamples ? null : Classifier.Classify(ClassifierInputOf(input, growth), _options);
        return new MemoryAssessment(growth, forecast, verdict, DeclaredOf(input, growth, forecast));
    }

    private static bool SharedCarriesGrowth(SampleWindow w, WindowGrowth growth)
    {
        if (w.Count < 2 || !growth.Rss.IsValid || growth.Rss.SlopePerSecond <= 0)
        {
            return false;
        }

        double shmem = (double)w.Newest.ShmemBytes - w.Oldest.ShmemBytes;
        return shmem >= 0.5 * growth.Rss.SlopePerSecond * growth.SpanSeconds;
    }

    /// <summary>Seconds to the declared limit at the RSS trend, and whether it comes before the forecast's limit.</summary>
    private static DeclaredLimitForecast? DeclaredOf(AssessmentInput input, WindowGrowth growth, ForecastResult forecast)
    {
        if (input.Parameters.DeclaredLimit is not { } limit)
        {
            return null;
        }

        double current = limit.Bounds == DeclaredLimit.Heap && input.RuntimeHeap?.CommittedBytes is { } committed ? committed : growth.RssLatestBytes;
        double slope = growth.Rss.IsValid ? growth.Rss.SlopePerSecond : 0;
        double? seconds = slope > 0 && current < limit.Bytes ? (limit.Bytes - current) / slope : null;
        bool first = seconds is { } s && (forecast.SecondsToLimit is not { } cg || s < cg);
        return new DeclaredLimitForecast(limit, current, seconds, first);
    }

    /// <summary>
    /// The cgroup's limit (usage counts every member, once; inactive file pages are reclaimable) when it has one below
    /// the host's memory, else the host's MemTotal. cgroup v1 reports "no limit" as a huge page-aligned number: a limit
    /// above MemTotal is none.
    /// </summary>
    public static ForecastInput ForecastInputOf(AssessmentInput input, WindowGrowth growth)
    {
        Meminfo? host = input.Host;
        if (input.Cgroup is { LimitBytes: { } limit, UsageBytes: { } usage } cg && (host is null || limit < host.MemTotalBytes))
        {
            return new ForecastInput
            {
                LimitBytes = limit,
                UsageBytes = usage,
                ReclaimableBytes = cg.ReclaimableBytes ?? 0,
                ProcessTrend = growth.Rss,
                RecentProcessTrend = growth.RecentRss,
                Pressure = Averages(cg.Pressure),
                Scope = LimitScope.Cgroup,
            };
        }

        double total = host?.MemTotalBytes ?? 0;
        return new ForecastInput
        {
            LimitBytes = total,
            UsageBytes = host?.MemAvailableBytes is { } available ? total - available : 0,
            ProcessTrend = growth.Rss,
            RecentProcessTrend = growth.RecentRss,
            Pressure = Averages(input.HostPressure),
            Scope = LimitScope.Host,
        };
    }

    private static ClassifierInput ClassifierInputOf(AssessmentInput input, WindowGrowth growth) => new()
    {
        Window = input.Window,
        Growth = growth,
        Layout = input.Layout,
        EarliestLayout = ReferenceEquals(input.EarliestLayout, input.Layout) ? null : input.EarliestLayout,
        Threads = input.Threads,
        EarliestThreads = input.EarliestThreads,
        Runtime = input.Runtime,
        RuntimeHeap = input.RuntimeHeap,
        EarliestRuntimeHeap = ReferenceEquals(input.EarliestRuntimeHeap, input.RuntimeHeap) ? null : input.EarliestRuntimeHeap,
        DeclaredLimit = input.Parameters.DeclaredLimit,
        Glibc = input.Parameters.Glibc,
        Jemalloc = input.Parameters.Jemalloc,
        Tcmalloc = input.Parameters.Tcmalloc,
        LatestStatistics = input.LatestStatistics,
        EarliestStatistics = ReferenceEquals(input.EarliestStatistics, input.LatestStatistics) ? null : input.EarliestStatistics,
        Managed = input.Managed,
        EarliestManaged = ReferenceEquals(input.EarliestManaged, input.Managed) ? null : input.EarliestManaged,
        LastTrim = input.LastTrim,
    };

    private static PressureAverages? Averages(PressureStall? p) =>
        p is null ? null : new PressureAverages(p.Some.Avg10, p.Some.Avg60, p.Full?.Avg10 ?? 0, p.Full?.Avg60 ?? 0);
}
