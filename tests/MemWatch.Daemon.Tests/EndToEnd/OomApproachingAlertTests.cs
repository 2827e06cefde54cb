using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace MemWatch.Daemon.Tests.EndToEnd;

/// <summary>
/// Issue 6 item 5: a process leaking toward its memory cgroup's limit pages (MemWatchOomApproaching fires in a real
/// Prometheus evaluating the shipped rules) before the kernel's OOM killer ends it; the lead time is reported.
/// </summary>
public sealed class OomApproachingAlertTests
{
    private const long MiB = 1024 * 1024;

    // The rule pages when the forecast is under 30 minutes for 2 minutes, and the daemon forecasts only above 50% of
    // the limit (ForecastOptions.UtilisationFloor). A base of 112 MiB then 512 KiB/s in a 256 MiB cgroup crosses 50%
    // about 32 s after the leak starts, so the alert can fire near 32 + 120 s and the OOM kill comes near 288 s:
    // about two minutes of margin for a loaded machine, and the test takes under five minutes.
    private const long LimitBytes = 256 * MiB;
    private const int BaseMiB = 112;
    private const int LeakKiBPerSecond = 512;

    private readonly ITestOutputHelper _output;

    public OomApproachingAlertTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void OomApproachingFiresBeforeTheKernelsOomKill()
    {
        using var cgroup = new TemporaryMemoryCgroup(LimitBytes);
        // No swap on this host; where there is some, the cgroup would page out instead of reaching the OOM killer.
        string memsw = Path.Combine(cgroup.Directory, "memory.memsw.limit_in_bytes");
        if (File.Exists(memsw))
        {
            File.WriteAllText(memsw, LimitBytes.ToString(CultureInfo.InvariantCulture));
        }

        using MonitoringStack stack = MonitoringStack.Start(
            [new Dictionary<string, object?> { ["Name"] = "leak", ["CgroupPrefix"] = cgroup.CgroupPath }]);

        using Workload leak = Workload.Start("paced_leak.c");
        cgroup.Add(leak.Pid);
        leak.Send($"alloc {BaseMiB}");
        stack.WaitWatched(leak.Pid);
        leak.Send($"leak {LeakKiBPerSecond}");
        DateTimeOffset leakStarted = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();

        var alerts = new AlertTimeline(leak.Pid);
        DateTimeOffset? firingWhileAlive = null;
        double? forecastAtFiring = null;
        // Expected near 290 s; the bound only stops a test whose workload never dies.
        TimeSpan timeout = TimeSpan.FromMinutes(10);
        while (!leak.HasExited && clock.Elapsed < timeout)
        {
            IReadOnlyList<string> firing = alerts.Poll(stack.Prometheus);
            // Seen firing, then the workload seen alive: the alert fired strictly before the kill.
            if (firingWhileAlive is null && firing.Contains("MemWatchOomApproaching") && !leak.HasExited && OomKills(cgroup) == 0)
            {
                firingWhileAlive = alerts["MemWatchOomApproaching"]!.FirstFiring;
                forecastAtFiring = double.Parse(alerts["MemWatchOomApproaching"]!.Value!, CultureInfo.InvariantCulture);
            }

            leak.WaitForExit(500);
        }

        DateTimeOffset killSeen = DateTimeOffset.UtcNow;
        string timeline = $"leak started {AlertTimeline.Format(leakStarted)}\n{alerts}";
        Assert.True(leak.HasExited, $"the workload was still alive after {timeout}\n{timeline}\n{stack.Daemon.Output}");
        Assert.True(leak.ExitCode == 128 + 9, $"the workload exited with {leak.ExitCode}, not by SIGKILL\n{timeline}");
        Assert.True(OomKills(cgroup) >= 1, $"memory.oom_control counts no OOM kill\n{timeline}");
        Assert.True(firingWhileAlive is not null,
            $"MemWatchOomApproaching did not fire before the OOM kill (seen {AlertTimeline.Format(killSeen)})\n{timeline}\n{stack.Prometheus.Log}\n{stack.Daemon.Output}");

        double lead = (killSeen - firingWhileAlive!.Value).TotalSeconds;
        double pendingFor = alerts["MemWatchOomApproaching"]!.ActiveAt is { } active ? (firingWhileAlive.Value - active).TotalSeconds : double.NaN;
        _output.WriteLine(timeline);
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cgroup limit {LimitBytes / MiB} MiB, base {BaseMiB} MiB, leak {LeakKiBPerSecond} KiB/s; pending (activeAt) {pendingFor:0.0} s before firing; " +
            $"forecast when firing {forecastAtFiring:0} s; fired {(firingWhileAlive.Value - leakStarted).TotalSeconds:0.0} s after the leak started; " +
            $"OOM kill seen {(killSeen - leakStarted).TotalSeconds:0.0} s after; lead time {lead:0.0} s (each instant is polled every 0.5 s)"));
        Assert.True(lead > 0, $"lead time {lead} s");
    }

    /// <summary>The kernel's count of OOM kills in the cgroup (v1 memory.oom_control, Linux 4.13+).</summary>
    private static long OomKills(TemporaryMemoryCgroup cgroup)
    {
        foreach (string line in File.ReadAllLines(Path.Combine(cgroup.Directory, "memory.oom_control")))
        {
            if (line.StartsWith("oom_kill ", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan("oom_kill ".Length), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("memory.oom_control has no oom_kill line (kernel older than 4.13)");
    }
}
