using System.Globalization;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Snapshots;
using MemWatch.Probes.Verdicts;

namespace MemWatch.IntegrationTests.Verdicts;

/// <summary>One command sent to a scenario workload, then samples taken for <see cref="SampleSeconds"/>.</summary>
internal sealed record ScenarioStep(string Command, double SampleSeconds);

/// <summary>The verdicts of one scenario run: the same window classified without and with the allocator's figures.</summary>
internal sealed record ScenarioOutcome(Verdict Passive, Verdict Introspected, WindowGrowth Growth, AllocatorStatistics? Statistics)
{
    public string Describe() => string.Join(Environment.NewLine,
        Line("passive", Passive), Line("introspected", Introspected),
        string.Create(CultureInfo.InvariantCulture, $"rss {Growth.RssLatestBytes} hwm {Growth.RssHighWaterBytes} slope {Growth.Rss.SlopePerSecond:0} recent {Growth.RecentRss.SlopePerSecond:0} B/s, faults {Growth.Faults?.MinorPerSecond:0.#}/s recent {Growth.RecentFaults?.MinorPerSecond:0.#}/s, {Growth.Samples} samples"));

    private static string Line(string mode, Verdict v) =>
        string.Create(CultureInfo.InvariantCulture, $"{mode}: {v.KindName} {v.MechanismName ?? "-"} {v.Confidence:0.##}: {v.Summary} | {string.Join(" | ", v.Evidence)}");
}

/// <summary>
/// Drives a scenario workload through its steps while sampling it as the daemon would (status and stat every 250 ms,
/// the region model at both ends, the allocator's figures at both ends), then classifies the window twice.
/// </summary>
internal static class ScenarioRunner
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(10);

    public static ScenarioOutcome Run(string scenario, Workload w, double baselineSeconds, params ScenarioStep[] steps)
    {
        var reader = new ProcessSnapshotReader(ProcFileSystem.Default, new CgroupMemoryReader());
        var window = new SampleWindow(capacity: 512, maxAge: TimeSpan.FromMinutes(10));
        ProcessSnapshot first = Capture(reader, w.Pid, SnapshotDepth.Full);
        AllocatorStatistics? earliest = ReadStatistics(w.Pid);
        window.Add(Capture(reader, w.Pid, SnapshotDepth.Counters).ToSample());
        Sample(reader, w.Pid, window, baselineSeconds);
        foreach (ScenarioStep step in steps)
        {
            w.Send(step.Command, TimeSpan.FromSeconds(120));
            window.Add(Capture(reader, w.Pid, SnapshotDepth.Counters).ToSample());
            Sample(reader, w.Pid, window, step.SampleSeconds);
        }

        ProcessSnapshot last = Capture(reader, w.Pid, SnapshotDepth.Full);
        window.Add(last.ToSample());
        AllocatorStatistics? latest = ReadStatistics(w.Pid);
        WindowGrowth growth = new GrowthAnalyzer().Analyze(window);

        Assert.True(ProcEnviron.TryRead(ProcFileSystem.Default, w.Pid, new FileBuffer(), out ProcEnviron? environ));
        ClassifierInput passive = (ClassifierInput.From(last, window, growth) with { EarliestLayout = first.Layout })
            .WithAllocatorParameters(environ, Environment.ProcessorCount);
        ClassifierInput introspected = passive with { LatestStatistics = latest, EarliestStatistics = earliest };
        var outcome = new ScenarioOutcome(Classifier.Classify(passive), Classifier.Classify(introspected), growth, latest);
        Record(scenario, outcome);
        return outcome;
    }

    /// <summary>Appends the outcome to $MEMWATCH_VERDICT_TABLE (for docs/verdicts.md's accuracy table), when set.</summary>
    private static void Record(string scenario, ScenarioOutcome o)
    {
        string? path = Environment.GetEnvironmentVariable("MEMWATCH_VERDICT_TABLE");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        File.AppendAllText(path, string.Create(CultureInfo.InvariantCulture,
            $"{scenario}\t{o.Passive.KindName}\t{o.Passive.MechanismName ?? "-"}\t{o.Passive.Confidence:0.##}\t{o.Introspected.KindName}\t{o.Introspected.MechanismName ?? "-"}\t{o.Introspected.Confidence:0.##}\t{o.Growth.SpanSeconds:0.#}\n"));
    }

    private static void Sample(ProcessSnapshotReader reader, int pid, SampleWindow window, double seconds)
    {
        long end = Environment.TickCount64 + (long)(seconds * 1000);
        while (Environment.TickCount64 < end)
        {
            Thread.Sleep(s_interval);
            window.Add(Capture(reader, pid, SnapshotDepth.Counters).ToSample());
        }
    }

    private static AllocatorStatistics? ReadStatistics(int pid)
    {
        using AllocatorConnection c = AllocatorConnection.Open(pid);
        return c.Introspector.IsSupported ? c.ReadStatistics(s_callTimeout) : null;
    }

    private static ProcessSnapshot Capture(ProcessSnapshotReader reader, int pid, SnapshotDepth depth) =>
        reader.TryCapture(pid, depth, out ProcessSnapshot? s) ? s : throw new InvalidOperationException($"workload {pid} is gone");
}
