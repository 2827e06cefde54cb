using System.Text;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Analysis;
using MemWatch.Probes.Discovery;

namespace MemWatch.Daemon.Tests.Metrics;

/// <summary>/metrics reads each target's published readings whole, without the target's lock.</summary>
public sealed class MetricsRendererTests
{
    private static TargetState Target(int pid) =>
        new(pid, 1, "t", new TargetRule(0, "r", new ProcessSelector(), false, false, new TrimPolicyOptions()),
            TargetIdentity.Unknown, new SampleWindow(64, TimeSpan.FromSeconds(60)));

    private static string Render(TargetRegistry registry)
    {
        var w = new ExpositionWriter(ExpositionFormat.PrometheusText);
        new MetricsRenderer(registry, new DaemonHealth(), MemWatch.Probes.ProcFs.ProcFileSystem.Default).Render(w);
        return Encoding.UTF8.GetString(w.Written.Span);
    }

    [Fact]
    public async Task AScrapeCompletesWhileAWriterHoldsATargetsLock()
    {
        var registry = new TargetRegistry();
        TargetState target = Target(41);
        registry.Add(target);
        target.Counters = new ProcessCounters(1, RssBytes: 4096, 0, 0, 0, 0, 0, 0, 0, 1);

        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var writer = new Thread(() =>
        {
            lock (target.Sync)
            {
                held.Set();
                release.Wait();
            }
        });
        writer.Start();
        held.Wait();
        try
        {
            // On this thread while another holds the lock: a renderer that locked each target would block here.
            // (TimeoutException when it does.)
            string text = await Task.Run(() => Render(registry)).WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Contains("memwatch_process_resident_bytes{pid=\"41\",comm=\"t\"} 4096\n", text);
        }
        finally
        {
            release.Set();
            writer.Join();
        }
    }

    [Fact]
    public void EachSetterReplacesTheReadingsWholeAndKeepsTheOtherFields()
    {
        TargetState target = Target(42);
        TargetReadings before = target.Readings;
        target.Counters = new ProcessCounters(1, RssBytes: 8192, 0, 0, 0, 0, 0, 0, 0, 1);
        target.PssBytes = 4096;
        target.Quarantine = "a remote call outlived its timeout";

        TargetReadings after = target.Readings;
        Assert.NotSame(before, after);
        Assert.Equal(0ul, before.Counters.RssBytes);
        Assert.Null(before.PssBytes);
        Assert.Equal(8192ul, after.Counters.RssBytes);
        Assert.Equal(4096ul, after.PssBytes);
        Assert.Equal("a remote call outlived its timeout", after.Quarantine);
    }
}
