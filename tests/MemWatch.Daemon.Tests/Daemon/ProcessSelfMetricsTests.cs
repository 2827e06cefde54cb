using System.Globalization;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>The daemon's own process_* metrics, compared with what /proc says of the daemon's process from outside.</summary>
public sealed class ProcessSelfMetricsTests
{
    [Fact]
    public void ProcessMetricsDescribeTheDaemonsOwnProcess()
    {
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using DaemonProcess daemon = DaemonProcess.Start(c => c["Sampling"] = TestConfig.FastSampling());
        string proc = $"/proc/{daemon.Pid.ToString(CultureInfo.InvariantCulture)}";

        string metrics = daemon.Metrics();
        long rssKiB = long.Parse(File.ReadAllLines(proc + "/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        int fds = Directory.GetFileSystemEntries(proc + "/fd").Length;
        string maxOpen = File.ReadAllLines(proc + "/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        double maxSoft = double.Parse(maxOpen["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);

        // Within 25% of RSS and 16 descriptors: the scrape itself allocates and opens a connection.
        double rss = Value(metrics, "process_resident_memory_bytes");
        Assert.InRange(rss, rssKiB * 1024 * 0.75, rssKiB * 1024 * 1.25);
        Assert.True(Value(metrics, "process_virtual_memory_bytes") > rss);
        Assert.InRange(Value(metrics, "process_open_fds"), fds - 16, fds + 16);
        Assert.Equal(maxSoft, Value(metrics, "process_max_fds"));
        Assert.InRange(Value(metrics, "process_cpu_seconds_total"), 0.01, 600);
        // The start time is the boot time (whole seconds in /proc/stat) plus the start ticks: right to within a second.
        Assert.InRange(Value(metrics, "process_start_time_seconds"), before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.True(Value(metrics, "dotnet_total_memory_bytes") > 0);
        Assert.NotNull(MetricsText.Value(metrics, "dotnet_collection_count_total", "generation=\"2\""));
    }

    private static double Value(string metrics, string name)
        => MetricsText.Value(metrics, name) ?? throw new Xunit.Sdk.XunitException($"{name} missing:\n{metrics}");
}
