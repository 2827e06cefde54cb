using System.Globalization;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// The history store inside `memwatch run`: policy trims audited and readable with `memwatch history`, re-faulted trims
/// not repeated, one daemon per state directory, SIGTERM flushing, and a restarted daemon resuming its trends.
/// </summary>
public sealed class HistoryWiringTests : IDisposable
{
    private const double MiB = 1024 * 1024;
    private readonly string _stateDirectory = Path.Combine(Path.GetTempPath(), "memwatch-history-wiring", Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public void PolicyTrimIsAuditedAndAReFaultedTrimIsNotRepeated()
    {
        using Workload seed = Workload.Start("seed.cc");
        using DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            config["StateDirectory"] = _stateDirectory;
            config["Sampling"] = TestConfig.FastSampling();
            config["Targets"] = new object[] { TestConfig.TrimPolicyRule("seed", seed.Pid, minInterval: "00:00:01") };
        });

        seed.Send("fill 256");
        seed.Send("drop");

        // The audit row reaches the database (the writer is woken for it; the poll does not time that).
        JsonElement audit = Poll.Until(
            () => History(seed.Pid) is { } h && h.GetProperty("audit").GetArrayLength() > 0 ? (object)h.GetProperty("audit")[0] : null,
            TimeSpan.FromSeconds(90), () => daemon.Output) is JsonElement a ? a : default;
        Assert.Equal("policy:seed", audit.GetProperty("actor").GetString());
        Assert.Equal("trim", audit.GetProperty("action").GetString());
        Assert.Equal("released", audit.GetProperty("result").GetString());
        double before = audit.GetProperty("rssBeforeBytes").GetDouble();
        double after = audit.GetProperty("rssAfterBytes").GetDouble();
        Assert.True(before > 200 * MiB && after < before / 2, audit.ToString());
        Assert.True(audit.GetProperty("releasedBytes").GetDouble() > 150 * MiB, audit.ToString());

        // The text form shows it too.
        MemwatchCli.Result text = MemwatchCli.Run(["history", Pid(seed.Pid), "--state-dir", _stateDirectory], TimeSpan.FromSeconds(60));
        Assert.True(text.ExitCode == 0, text.StandardError);
        Assert.Contains("policy:seed", text.StandardOutput, StringComparison.Ordinal);

        // Fill again: the released memory comes back (re-faulted). Freed again, releasable crosses the thresholds and the
        // interval has passed, yet the policy leaves the process alone and says why, once.
        seed.Send("fill 256");
        Thread.Sleep(3000);
        seed.Send("drop");
        string skipped = $"policy of rule seed no longer trims {seed.Pid}";
        Poll.Until(() => daemon.Output.Contains(skipped, StringComparison.Ordinal), TimeSpan.FromSeconds(60), () => daemon.Output);
        Thread.Sleep(4000);
        Assert.Equal(1, MetricsText.Value(daemon.Metrics(), "memwatch_remediations_total", "action=\"trim\"", "result=\"released\""));
        Assert.Single(daemon.Output.Split('\n'), l => l.Contains(skipped, StringComparison.Ordinal));
        Assert.True(ApiTests.ProcRss(seed.Pid) > 200 * MiB);

        // The verdict turns the re-faulted trim into advice: stop trimming, fix the allocator settings.
        Poll.Until(
            () => Target(daemon, seed.Pid) is { ValueKind: JsonValueKind.Object } t && t.GetProperty("verdict") is { ValueKind: JsonValueKind.Object } v
                && v.GetProperty("kind").GetString() == "allocator-retention"
                && v.GetProperty("recommendations")[0].GetProperty("action").GetString() == "stop trimming this process periodically"
                && v.GetProperty("evidence").EnumerateArray().Any(e => e.GetString()!.StartsWith("the last trim released", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), () => Target(daemon, seed.Pid).ToString());
    }

    [Fact]
    public void RestartedDaemonResumesTrendsFromHistoryAndSigtermFlushes()
    {
        using Workload leak = Workload.Start("scenarios/steady_leak.c", "1024");
        leak.Send("start");
        Action<Dictionary<string, object?>> configure = config =>
        {
            config["StateDirectory"] = _stateDirectory;
            config["Sampling"] = new Dictionary<string, object?>
            {
                ["Interval"] = "00:00:01",
                ["RollupInterval"] = "00:00:02",
                ["Window"] = "00:05:00",
            };
            config["Targets"] = new object[] { new Dictionary<string, object?> { ["Name"] = "leak", ["Pid"] = leak.Pid } };
        };

        DateTimeOffset lastSampledBeforeStop;
        int samplesBeforeStop;
        using (DaemonProcess first = DaemonProcess.Start(configure))
        {
            Poll.Until(() => Samples(first, leak.Pid) >= 12, TimeSpan.FromSeconds(90), first.Output.ToString);

            // A second daemon on the same state directory refuses to start, with one clear line.
            using (DaemonProcess second = DaemonProcess.Start(configure, waitReady: false))
            {
                Assert.True(second.WaitForExit(TimeSpan.FromSeconds(60)), second.Output);
                Assert.Equal(1, second.ExitCode);
                Assert.Contains("another memwatch daemon is running with state directory", second.Output, StringComparison.Ordinal);
            }

            JsonElement target = Target(first, leak.Pid);
            lastSampledBeforeStop = target.GetProperty("sampledAt").GetDateTimeOffset();
            samplesBeforeStop = target.GetProperty("samples").GetInt32();
            first.Terminate(TimeSpan.FromSeconds(30));
            Assert.Equal(0, first.ExitCode);
            Assert.Contains("history flushed and closed", first.Output, StringComparison.Ordinal);
        }

        // Flushed on SIGTERM: the samples of the last batch are in the file, and the WAL was checkpointed into it.
        JsonElement stored = History(leak.Pid) ?? throw new Xunit.Sdk.XunitException("no history after SIGTERM");
        Assert.True(stored.GetProperty("lastSampleAt").GetDateTimeOffset() >= lastSampledBeforeStop, stored.GetProperty("lastSampleAt").ToString());
        Assert.True(stored.GetProperty("samples").GetArrayLength() >= samplesBeforeStop, stored.GetProperty("samples").GetArrayLength().ToString(CultureInfo.InvariantCulture));
        Assert.False(File.Exists(Path.Combine(_stateDirectory, "history.db-wal")) && new FileInfo(Path.Combine(_stateDirectory, "history.db-wal")).Length > 0);

        DateTimeOffset restartedAt = DateTimeOffset.UtcNow;
        using DaemonProcess restarted = DaemonProcess.Start(configure);

        // The first analysis after the restart already has the trend: the window holds the stored samples.
        JsonElement resumed = Poll.Until(
            () => Target(restarted, leak.Pid) is { ValueKind: JsonValueKind.Object } t && t.GetProperty("growthBytesPerSecond").ValueKind == JsonValueKind.Number ? (object)t : null,
            TimeSpan.FromSeconds(60), () => restarted.Output) is JsonElement r ? r : default;
        Assert.True(resumed.GetProperty("samples").GetInt32() >= samplesBeforeStop, resumed.ToString());
        Assert.True(resumed.GetProperty("growthBytesPerSecond").GetDouble() > 256 * 1024, resumed.ToString());
        restarted.AssertLogged($"resumed {leak.Pid} (steady_leak) from history");

        // memwatch history (read-only, beside the running daemon) shows samples from before the restart.
        JsonElement history = History(leak.Pid) ?? throw new Xunit.Sdk.XunitException("no history");
        Assert.True(history.GetProperty("samples")[0].GetProperty("at").GetDateTimeOffset() < restartedAt);
    }

    private JsonElement? History(int pid)
    {
        MemwatchCli.Result r = MemwatchCli.Run(["history", Pid(pid), "--state-dir", _stateDirectory, "--json", "--since", "30m"], TimeSpan.FromSeconds(60));
        return r.ExitCode == 0 ? JsonDocument.Parse(r.StandardOutput).RootElement.Clone() : null;
    }

    private static int Samples(DaemonProcess daemon, int pid) =>
        Target(daemon, pid) is { ValueKind: JsonValueKind.Object } t ? t.GetProperty("samples").GetInt32() : 0;

    private static JsonElement Target(DaemonProcess daemon, int pid)
    {
        foreach (JsonElement t in daemon.GetJson("/api/targets", out _).EnumerateArray())
        {
            if (t.GetProperty("pid").GetInt32() == pid)
            {
                return t;
            }
        }

        return default;
    }

    private static string Pid(int pid) => pid.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_stateDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
