using System.Globalization;
using System.Text.Json;
using MemWatch.IntegrationTests.Support;

namespace MemWatch.IntegrationTests.Verdicts;

/// <summary>`memwatch inspect --watch` reports the verdict and the forecast.</summary>
[Collection("verdict scenarios")]
public sealed class InspectVerdictCliTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void InspectWatch_LeakInLimitedCgroup_JsonHasLeakVerdictAndForecastToTheLimit()
    {
        using var cgroup = new TemporaryMemoryCgroup(192 * MiB);
        using Workload w = Workload.Start("scenarios/steady_leak.c", "4096");
        cgroup.Add(w.Pid);
        w.Send("start");

        // Above the forecast's 50% utilisation floor before the window starts.
        long deadline = Environment.TickCount64 + 90_000;
        while (ProcessMemory.RssBytes(w.Pid) < 100 * MiB)
        {
            Assert.True(Environment.TickCount64 < deadline, "the leak did not reach 100 MiB");
            Thread.Sleep(200);
        }

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(CultureInfo.InvariantCulture), "--json", "--watch", "12"], TimeSpan.FromSeconds(90));

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement verdict = doc.RootElement.GetProperty("verdict");
        Assert.Equal("leak", verdict.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, verdict.GetProperty("mechanism").ValueKind);
        Assert.InRange(verdict.GetProperty("confidence").GetDouble(), 0.01, 1.0);
        Assert.False(string.IsNullOrEmpty(verdict.GetProperty("summary").GetString()));
        Assert.True(verdict.GetProperty("evidence").GetArrayLength() > 0, verdict.ToString());
        Assert.True(verdict.GetProperty("recommendations").GetArrayLength() > 0, verdict.ToString());

        JsonElement forecast = doc.RootElement.GetProperty("forecast");
        Assert.Equal("cgroup", forecast.GetProperty("scope").GetString());
        Assert.Equal(192.0 * MiB, forecast.GetProperty("limitBytes").GetDouble());
        Assert.True(forecast.GetProperty("outcome").GetString() == "forecast", forecast.ToString());

        // About (192 MiB - usage) / 4 MiB/s: the leak needs well under a minute more.
        Assert.InRange(forecast.GetProperty("secondsToLimit").GetDouble(), 1, 60);
        Assert.NotEqual("none", forecast.GetProperty("confidence").GetString());
    }

    [Fact]
    public void InspectWatch_Text_ShowsVerdictAndForecastLines()
    {
        using Workload w = Workload.Start("scenarios/stable_churn.c");

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(CultureInfo.InvariantCulture), "--watch", "3"], TimeSpan.FromSeconds(60));

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains("\nverdict stable, confidence ", r.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\nforecast: ", r.StandardOutput, StringComparison.Ordinal);
    }
}
