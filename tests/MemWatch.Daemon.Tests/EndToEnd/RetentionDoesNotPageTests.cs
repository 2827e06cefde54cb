using System.Diagnostics;
using System.Globalization;
using MemWatch.Probes.Verdicts;
using MemWatch.Daemon.Tests.Support;
using Xunit.Abstractions;

namespace MemWatch.Daemon.Tests.EndToEnd;

/// <summary>
/// Issue 6 item 5, the opposite case: a process whose allocator retains a large amount of freed memory, above half of
/// its cgroup's limit but not growing, must not page as approaching OOM nor as a leak.
/// </summary>
public sealed class RetentionDoesNotPageTests
{
    private const long MiB = 1024 * 1024;

    // seed.cc: 320 MiB in 100-byte blocks is ~385 MiB of RSS with the block vector; freed, glibc keeps it in fastbins.
    // A 640 MiB limit puts usage near 60%, above the forecast's 50% floor: only the trend analysis keeps it quiet.
    private const long LimitBytes = 640 * MiB;
    private const int FillMiB = 320;

    // Comparable to the OOM test: longer than the OOM rule's 2-minute for: from the start of the churn.
    private static readonly TimeSpan s_watched = TimeSpan.FromMinutes(4);

    private readonly ITestOutputHelper _output;

    public RetentionDoesNotPageTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void AllocatorRetentionUnderTheLimitPagesNeitherAsOomNorAsLeak()
    {
        using var cgroup = new TemporaryMemoryCgroup(LimitBytes);
        using MonitoringStack stack = MonitoringStack.Start(
        [
            new Dictionary<string, object?> { ["Name"] = "retention", ["CgroupPrefix"] = cgroup.CgroupPath, ["Introspect"] = true },
        ]);

        using Workload seed = Workload.Start("seed.cc");
        cgroup.Add(seed.Pid);
        stack.WaitWatched(seed.Pid);
        seed.Send($"fill {FillMiB}");
        seed.Send("drop");

        // A service's churn: the same amount is allocated and freed again every 20 s, reusing the retained memory.
        var alerts = new AlertTimeline(seed.Pid);
        var clock = Stopwatch.StartNew();
        TimeSpan nextChurn = TimeSpan.FromSeconds(20);
        int churns = 0;
        while (clock.Elapsed < s_watched)
        {
            IReadOnlyList<string> firing = alerts.Poll(stack.Prometheus);
            Assert.False(firing.Contains("MemWatchOomApproaching") || firing.Contains("MemWatchSustainedLeak"),
                $"after {clock.Elapsed.TotalSeconds:0} s: {alerts}\n{stack.Daemon.Output}");
            if (clock.Elapsed >= nextChurn)
            {
                seed.Send($"fill {FillMiB}");
                seed.Send("drop");
                churns++;
                nextChurn += TimeSpan.FromSeconds(20);
            }

            Thread.Sleep(1000);
        }

        Assert.False(seed.HasExited, "the retention workload died");
        string pid = seed.Pid.ToString(CultureInfo.InvariantCulture);
        string window = $"[{(int)clock.Elapsed.TotalSeconds}s]";

        // The quiet is not for want of data: Prometheus scraped the target all along, above the forecast's floor.
        double samples = stack.Instant($"count_over_time(memwatch_process_resident_bytes{{pid=\"{pid}\"}}{window})") ?? 0;
        double usedRatio = stack.Instant($"max_over_time(memwatch:process_cgroup_usage_ratio{{pid=\"{pid}\"}}{window})") ?? double.NaN;
        double? lowestForecast = stack.Instant($"min_over_time(memwatch_process_seconds_to_limit{{pid=\"{pid}\"}}{window})");
        double? releasable = stack.Instant($"max_over_time(memwatch:process_releasable_ratio{{pid=\"{pid}\"}}{window})");
        string metrics = stack.Daemon.Metrics();
        double? leakVerdict = MetricsText.Value(metrics, "memwatch_verdict", $"pid=\"{pid}\"", "kind=\"leak\"");
        string verdict = VerdictKindNames.All.FirstOrDefault(k => MetricsText.Value(metrics, "memwatch_verdict", $"pid=\"{pid}\"", $"kind=\"{k}\"") == 1)
            ?? "none";

        _output.WriteLine(alerts.ToString());
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"watched {clock.Elapsed.TotalSeconds:0} s, {churns} churns of {FillMiB} MiB; {samples} RSS samples in Prometheus; " +
            $"max cgroup usage ratio {usedRatio:0.00}; lowest seconds_to_limit {(lowestForecast is { } f ? f.ToString("0", CultureInfo.InvariantCulture) : "absent")}; " +
            $"max releasable ratio {(releasable is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "absent")}; " +
            $"memwatch_verdict{{kind=\"leak\"}} {(leakVerdict is { } v ? v.ToString(CultureInfo.InvariantCulture) : "not exported")}, current verdict {verdict}"));

        Assert.True(samples >= s_watched.TotalSeconds / 4, $"only {samples} RSS samples over the window\n{stack.Prometheus.Log}");
        Assert.True(usedRatio > 0.5, $"cgroup usage ratio peaked at {usedRatio}: below the forecast floor, the test proves nothing");
        Assert.Null(alerts["MemWatchOomApproaching"]?.FirstFiring);
        Assert.Null(alerts["MemWatchSustainedLeak"]?.FirstFiring);
        Assert.NotEqual<double?>(1, leakVerdict);
        // And the rules do see what it is: retention the allocator could release (its for: is 15 minutes, so pending).
        Assert.True(alerts["MemWatchLargeReleasableRetention"]?.FirstPending is not null || alerts["MemWatchLargeReleasableRetention"]?.FirstFiring is not null,
            $"MemWatchLargeReleasableRetention never became active\n{alerts}\n{stack.Daemon.Output}");
    }
}
