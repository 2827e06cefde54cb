using System.Globalization;
using MemWatch.Daemon.Tests.Deploy;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.EndToEnd;

/// <summary>
/// What an SRE runs, on loopback: <c>memwatch run</c> sampling every second, and a real Prometheus scraping it and
/// evaluating deploy/prometheus/memwatch.rules.yml unchanged every second. Dispose stops both.
/// </summary>
public sealed class MonitoringStack : IDisposable
{
    private MonitoringStack(DaemonProcess daemon, LoopbackPrometheus prometheus)
    {
        Daemon = daemon;
        Prometheus = prometheus;
    }

    public DaemonProcess Daemon { get; }

    public LoopbackPrometheus Prometheus { get; }

    public static string RulesFile => DeployTree.File("prometheus", "memwatch.rules.yml");

    /// <summary>Starts both and waits until Prometheus has scraped the daemon successfully.</summary>
    /// <param name="targets">The daemon config's Targets array.</param>
    public static MonitoringStack Start(object[] targets)
    {
        DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            // Short intervals so that the rules' 2-minute for: is the slowest link; the window holds the whole test.
            config["Sampling"] = new Dictionary<string, object?>
            {
                ["Interval"] = "00:00:01",
                ["RollupInterval"] = "00:00:01",
                ["SmapsInterval"] = "00:00:30",
                ["IntrospectInterval"] = "00:00:05",
                ["Window"] = "00:10:00",
            };
            config["Targets"] = targets;
        });
        LoopbackPrometheus prometheus;
        try
        {
            prometheus = LoopbackPrometheus.Scraping($"127.0.0.1:{daemon.Port}", [RulesFile], TimeSpan.FromSeconds(1));
        }
        catch
        {
            daemon.Dispose();
            throw;
        }

        var stack = new MonitoringStack(daemon, prometheus);
        try
        {
            Poll.Until(() => stack.Instant("up{job=\"memwatch\"}") == 1, TimeSpan.FromSeconds(120),
                () => $"prometheus never scraped the daemon\n{prometheus.Log}\n{daemon.Output}", 500);
        }
        catch
        {
            stack.Dispose();
            throw;
        }

        return stack;
    }

    /// <summary>The value of the first sample of an instant query, or null when the result is empty.</summary>
    public double? Instant(string expression)
    {
        System.Text.Json.JsonElement result = Prometheus.Query(expression);
        return result.GetArrayLength() == 0
            ? null
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until Prometheus holds a scraped RSS sample for <paramref name="pid"/>: the whole chain sees it.</summary>
    public void WaitWatched(int pid) =>
        Poll.Until(() => Instant($"memwatch_process_resident_bytes{{pid=\"{pid}\"}}") is not null, TimeSpan.FromSeconds(120),
            () => $"prometheus never had a sample for pid {pid}\n{Prometheus.Log}\n{Daemon.Output}", 500);

    public void Dispose()
    {
        Prometheus.Dispose();
        Daemon.Dispose();
    }
}
