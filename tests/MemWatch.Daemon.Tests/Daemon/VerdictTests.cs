using System.Globalization;
using System.Net;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>The classifier in the daemon: a leak and allocator retention, in /metrics (state set) and in /api/targets.</summary>
public sealed class VerdictTests
{
    private static readonly string[] s_kinds =
        ["leak", "allocator-retention", "file-backed-growth", "managed-heap-growth", "unexplained-growth", "stable"];

    [Fact]
    public void LeakAndRetentionWorkloadsGetTheirVerdictsInMetricsAndApi()
    {
        using Workload leak = Workload.Start("scenarios/steady_leak.c", "4096");
        using Workload seed = Workload.Start("seed.cc");

        // Retention: 200 MiB of small blocks filled and freed before the window starts; the allocator keeps them.
        seed.Send("fill 200");
        seed.Send("drop");
        using DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            config["Sampling"] = new Dictionary<string, object?>
            {
                ["Interval"] = "00:00:01",
                ["RollupInterval"] = "00:00:02",
                ["SmapsInterval"] = "00:00:05",
                ["IntrospectInterval"] = "00:00:02",
                ["Window"] = "00:00:20",
            };
            config["Targets"] = new object[]
            {
                new Dictionary<string, object?> { ["Name"] = "leak", ["Pid"] = leak.Pid },
                new Dictionary<string, object?> { ["Name"] = "seed", ["Pid"] = seed.Pid, ["Introspect"] = true },
            };
        });
        leak.Send("start");

        AssertVerdict(daemon, leak.Pid, "leak", leak, introspected: false);
        AssertVerdict(daemon, seed.Pid, "allocator-retention", seed, introspected: true);

        // Logged once when it changed, not on every rollup. The line is logged before the verdict reaches /metrics, but
        // it reaches the test through the output pipe: wait for it, then count.
        daemon.AssertLogged($"target {leak.Pid} (steady_leak): verdict leak");
        string output = daemon.Output;
        int leakLines = output.Split('\n').Count(l => l.Contains($"target {leak.Pid} (steady_leak): verdict leak", StringComparison.Ordinal));
        Assert.True(leakLines == 1, output);

        // The change is in the history too (written with the next batch, within 10 s).
        string stateDirectory = Path.Combine(daemon.Directory, "state");
        Poll.Until(() =>
        {
            MemwatchCli.Result r = MemwatchCli.Run(["history", leak.Pid.ToString(CultureInfo.InvariantCulture), "--state-dir", stateDirectory, "--json"], TimeSpan.FromSeconds(60));
            return r.ExitCode == 0 && JsonDocument.Parse(r.StandardOutput).RootElement.GetProperty("verdictChanges").EnumerateArray()
                .Any(c => c.GetProperty("kind").GetString() == "leak" && c.GetProperty("summary").GetString()!.Length > 0);
        }, TimeSpan.FromSeconds(60), () => daemon.Output, everyMilliseconds: 2000);
    }

    private static void AssertVerdict(DaemonProcess daemon, int pid, string kind, Workload workload, bool introspected)
    {
        string label = $"pid=\"{pid}\"";
        string metrics = Poll.Until(
            () => daemon.Metrics() is var m && MetricsText.Value(m, "memwatch_verdict", label, $"kind=\"{kind}\"") == 1 ? m : null,
            TimeSpan.FromSeconds(90),
            () => $"no {kind} verdict for {pid} ({workload.ReadyLine}):\n{Summary(daemon, pid)}\n{daemon.Output}");

        // A state set: every kind present, exactly one of them 1.
        double sum = 0;
        foreach (string k in s_kinds)
        {
            double? v = MetricsText.Value(metrics, "memwatch_verdict", label, $"kind=\"{k}\"");
            Assert.True(v is 0 or 1, $"memwatch_verdict{{kind=\"{k}\"}} = {v}");
            sum += v!.Value;
        }

        Assert.Equal(1, sum);
        Assert.InRange(MetricsText.Value(metrics, "memwatch_verdict_confidence", label)!.Value, 0.01, 1.0);

        // The API carries the whole verdict. It may have moved on since the scrape (a rollup in between): poll.
        JsonElement verdict = Poll.Until(
            () => Target(daemon, pid) is { } t && t.GetProperty("verdict") is { ValueKind: JsonValueKind.Object } v
                && v.GetProperty("kind").GetString() == kind ? (object)v : null,
            TimeSpan.FromSeconds(30), () => Summary(daemon, pid)) is JsonElement e ? e : default;
        Assert.False(string.IsNullOrEmpty(verdict.GetProperty("summary").GetString()));
        Assert.True(verdict.GetProperty("evidence").GetArrayLength() > 0, verdict.ToString());
        Assert.True(verdict.GetProperty("recommendations").GetArrayLength() > 0, verdict.ToString());
        Assert.InRange(verdict.GetProperty("confidence").GetDouble(), 0.01, 1.0);

        // An introspected target's verdict rests on the allocator's own figures, taken at both ends of the window.
        Assert.True(verdict.GetProperty("introspected").GetBoolean() == introspected, verdict.ToString());

        JsonElement detail = daemon.GetJson($"/api/targets/{pid}", out HttpStatusCode status);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.Object, detail.GetProperty("target").GetProperty("verdict").ValueKind);
    }

    private static JsonElement? Target(DaemonProcess daemon, int pid)
    {
        JsonElement all = daemon.GetJson("/api/targets", out _);
        foreach (JsonElement t in all.EnumerateArray())
        {
            if (t.GetProperty("pid").GetInt32() == pid)
            {
                return t;
            }
        }

        return null;
    }

    private static string Summary(DaemonProcess daemon, int pid) =>
        Target(daemon, pid)?.ToString() ?? $"{pid.ToString(CultureInfo.InvariantCulture)} not in /api/targets";
}
