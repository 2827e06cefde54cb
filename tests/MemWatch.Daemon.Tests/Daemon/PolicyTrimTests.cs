using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>A trim policy on a glibc workload: nothing while little is releasable, one trim once freed memory crosses the thresholds, none again within MinInterval.</summary>
public sealed class PolicyTrimTests
{
    [Fact]
    public void PolicyTrimsWhenReleasableCrossesTheThresholdsAndOnlyOncePerInterval()
    {
        using Workload seed = Workload.Start("seed.cc");
        using DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            config["Sampling"] = TestConfig.FastSampling();
            config["Targets"] = new object[] { TestConfig.TrimPolicyRule("seed", seed.Pid, minInterval: "01:00:00") };
        });

        // Introspected at least twice with nothing releasable: no trim.
        string label = $"pid=\"{seed.Pid}\"";
        Poll.Until(() => MetricsText.Value(daemon.Metrics(), "memwatch_allocator_releasable_bytes", label) is not null, TimeSpan.FromSeconds(60), () => daemon.Output);
        Thread.Sleep(2500);
        Assert.Equal(0, TrimCount(daemon));

        seed.Send("fill 256");
        seed.Send("drop");
        double held = ApiTests.ProcRss(seed.Pid);
        Assert.True(held > 200 * 1024 * 1024, $"RSS after fill and drop {held}");

        // The counter moves once the trim call has returned, a moment after RSS fell.
        Poll.Until(() => ApiTests.ProcRss(seed.Pid) < held / 4 && TrimCount(daemon) > 0, TimeSpan.FromSeconds(60),
            () => $"RSS {ApiTests.ProcRss(seed.Pid)}, trims {TrimCount(daemon)}\n{daemon.Output}");
        Assert.Equal(1, TrimCount(daemon));
        Assert.Equal(1, MetricsText.Value(daemon.Metrics(), "memwatch_remediations_total", "action=\"trim\"", "result=\"released\""));
        daemon.AssertLogged("policy of rule seed trims " + seed.Pid);

        // Freed memory again, but within MinInterval of the last trim: left alone.
        seed.Send("fill 256");
        seed.Send("drop");
        double again = ApiTests.ProcRss(seed.Pid);
        Thread.Sleep(5000);
        Assert.Equal(1, TrimCount(daemon));
        Assert.True(ApiTests.ProcRss(seed.Pid) > again * 0.9);
    }

    private static double TrimCount(DaemonProcess daemon)
    {
        string metrics = daemon.Metrics();
        return new[] { "released", "requested", "refused", "failed" }
            .Sum(r => MetricsText.Value(metrics, "memwatch_remediations_total", "action=\"trim\"", $"result=\"{r}\"") ?? 0);
    }
}
