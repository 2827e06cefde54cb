using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// A real Prometheus (Debian package) on a free loopback port scrapes the daemon every second; the workload's RSS is
/// then read back through Prometheus's HTTP API. Prometheus asks for OpenMetrics first, so its OpenMetrics parser is
/// what accepts the exposition here.
/// </summary>
public sealed class PrometheusScrapeTests
{
    [Fact]
    public async Task PrometheusScrapesTheDaemonAndAnswersQueriesForTheWorkload()
    {
        using Workload seed = Workload.Start("seed.cc");
        seed.Send("fill 48");
        using DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            config["Sampling"] = new Dictionary<string, object?> { ["Interval"] = "00:00:01" };
            config["Targets"] = new object[] { new Dictionary<string, object?> { ["Name"] = "seed", ["Pid"] = seed.Pid } };
        });

        string dir = Path.Combine(daemon.Directory, "prometheus");
        Directory.CreateDirectory(dir);
        int port = DaemonProcess.FreePort();
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: memwatch
                static_configs:
                  - targets: ['127.0.0.1:{daemon.Port}']
            """);
        var psi = new ProcessStartInfo("prometheus")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[]
        {
            $"--config.file={Path.Combine(dir, "prometheus.yml")}",
            $"--storage.tsdb.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
        })
        {
            psi.ArgumentList.Add(a);
        }

        using Process prometheus = Process.Start(psi)!;
        var log = new System.Text.StringBuilder();
        prometheus.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prometheus.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            string query = Uri.EscapeDataString($"memwatch_process_resident_bytes{{pid=\"{seed.Pid}\",comm=\"seed\"}}");
            double value = double.NaN;
            Poll.Until(() =>
            {
                try
                {
                    using JsonDocument doc = JsonDocument.Parse(http.GetStringAsync($"/api/v1/query?query={query}").Result);
                    JsonElement result = doc.RootElement.GetProperty("data").GetProperty("result");
                    if (result.GetArrayLength() == 0)
                    {
                        return false;
                    }

                    value = double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                    return true;
                }
                catch (AggregateException)
                {
                    return false; // Prometheus still starting.
                }
            }, TimeSpan.FromSeconds(90), () => $"prometheus never had the series\n{log}\n{daemon.Output}", 500);

            double actual = ApiTests.ProcRss(seed.Pid);
            Assert.InRange(value, actual * 0.9, actual * 1.1);

            using JsonDocument targets = JsonDocument.Parse(await http.GetStringAsync("/api/v1/targets"));
            JsonElement target = targets.RootElement.GetProperty("data").GetProperty("activeTargets")[0];
            Assert.Equal("up", target.GetProperty("health").GetString());
            Assert.Equal("", target.GetProperty("lastError").GetString());
            daemon.AssertLogged("served /metrics as OpenMetrics");

            // Counters and histograms arrive with their conventional names.
            string histogram = Uri.EscapeDataString("memwatch_sample_duration_seconds_count{depth=\"status\"}");
            using JsonDocument h = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/query?query={histogram}"));
            Assert.Equal(1, h.RootElement.GetProperty("data").GetProperty("result").GetArrayLength());
        }
        finally
        {
            if (!prometheus.HasExited)
            {
                prometheus.Kill();
                prometheus.WaitForExit(10_000);
            }
        }
    }
}
