using MemWatch.Probes.Analysis;
using MemWatch.Probes.ProcFs;
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
        ForecastResult forecast = Forecast.ToLimit(ForecastInputOf(input, growth));
        Verdict? verdict = input.Window.Count < MinSamples ? null : Classifier.Classify(ClassifierInputOf(input, growth), _options);
        return new MemoryAssessment(growth, forecast, verdict);
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
