using System.Globalization;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Kubernetes;

/// <summary>
/// The daemon as the chart runs it in a pod: in a container cgroup of a pod of its own, in its own mount and cgroup
/// namespaces, with the host's cgroup tree bound at <c>Sampling.HostCgroupRoot</c>, watching a process in another pod
/// whose pod-level cgroup carries a 256 MiB limit (kubelet cgroupfs layout, v1 memory hierarchy as on this host).
/// </summary>
public sealed class PodCgroupTests
{
    private const ulong PodLimit = 256UL << 20;

    [Fact]
    public void DaemonInItsOwnCgroupNamespace_WithTheHostTreeMounted_ReportsThePodsLimitAndIdentity()
    {
        using var layout = new PodCgroupLayout(PodLimit);
        using Workload target = Workload.Start("cgroup_alloc.c");
        PodCgroupLayout.Join(layout.TargetDirectory, target.Pid);
        target.Send("alloc 16");
        string hostRoot = Path.Combine(Path.GetTempPath(), "memwatch-k8s-host-" + layout.Top[^10..], "sys", "fs", "cgroup");
        try
        {
            using DaemonProcess daemon = StartInPod(layout, target.Pid, hostRoot);

            string metrics = Poll.Until(
                () => daemon.Metrics() is { } m && MetricsText.Value(m, "memwatch_process_cgroup_limit_bytes", Pid(target)) is not null ? m : null,
                TimeSpan.FromSeconds(90),
                () => "no cgroup limit for the target:\n" + daemon.Output);

            Assert.Equal(PodLimit, (ulong)MetricsText.Value(metrics, "memwatch_process_cgroup_limit_bytes", Pid(target))!.Value);
            Assert.Equal(PodLimit, (ulong)MetricsText.Value(metrics, "memwatch_process_forecast_limit_bytes", Pid(target))!.Value);
            Assert.NotNull(MetricsText.Value(metrics, "memwatch_process_cgroup_usage_bytes", Pid(target), $"container_id=\"containerd://{layout.ContainerId}\""));
            Assert.DoesNotContain("is not visible through", daemon.Output, StringComparison.Ordinal);
        }
        finally
        {
            DeleteEmptyTree(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(hostRoot)!)!)!);
        }
    }

    [Fact]
    public void DaemonInItsOwnCgroupNamespace_WithoutTheHostTree_WarnsAndReportsNoLimit()
    {
        using var layout = new PodCgroupLayout(PodLimit);
        using Workload target = Workload.Start("cgroup_alloc.c");
        PodCgroupLayout.Join(layout.TargetDirectory, target.Pid);
        target.Send("alloc 16");

        using DaemonProcess daemon = StartInPod(layout, target.Pid, hostRoot: null);

        daemon.AssertLogged($"of {target.Pid} (cgroup_alloc) is not visible through", TimeSpan.FromSeconds(90));
        string metrics = daemon.Metrics();
        Assert.NotNull(MetricsText.Value(metrics, "memwatch_process_resident_bytes", Pid(target)));
        Assert.Null(MetricsText.Value(metrics, "memwatch_process_cgroup_limit_bytes", Pid(target)));
    }

    /// <summary>The reproduction: inspect from a pod's namespaces; with the host tree the limit, without it a warning.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void InspectInItsOwnCgroupNamespace_ReportsThePodsLimitOrWarns(bool hostTree)
    {
        using var layout = new PodCgroupLayout(PodLimit);
        using Workload target = Workload.Start("cgroup_alloc.c");
        PodCgroupLayout.Join(layout.TargetDirectory, target.Pid);
        string hostRoot = Path.Combine(Path.GetTempPath(), "memwatch-k8s-host-" + layout.Top[^10..]);
        string script = Path.Combine(Path.GetTempPath(), "memwatch-k8s-in-pod-" + Guid.NewGuid().ToString("N")[..10] + ".sh");
        try
        {
            MemwatchCli.Result r = MemwatchCli.Run(
                ["inspect", "--json", target.Pid.ToString(CultureInfo.InvariantCulture)],
                TimeSpan.FromSeconds(60),
                PodNamespaces.Prefix(script, layout.WatcherDirectory, hostTree ? hostRoot : null));

            Assert.True(r.ExitCode == 0, r.StandardError);
            using var doc = System.Text.Json.JsonDocument.Parse(r.StandardOutput);
            System.Text.Json.JsonElement root = doc.RootElement;
            if (hostTree)
            {
                Assert.Equal(PodLimit, root.GetProperty("cgroup").GetProperty("limitBytes").GetUInt64());
            }
            else
            {
                Assert.Equal(System.Text.Json.JsonValueKind.Null, root.GetProperty("cgroup").ValueKind);
                Assert.Contains(root.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("memory cgroup is not visible from here", StringComparison.Ordinal));
            }
        }
        finally
        {
            File.Delete(script);
            if (Directory.Exists(hostRoot))
            {
                Directory.Delete(hostRoot);
            }
        }
    }

    private static string Pid(Workload w) => $"pid=\"{w.Pid.ToString(CultureInfo.InvariantCulture)}\"";

    private static DaemonProcess StartInPod(PodCgroupLayout layout, int targetPid, string? hostRoot)
    {
        string script = Path.Combine(Path.GetTempPath(), "memwatch-k8s-in-pod-" + Guid.NewGuid().ToString("N")[..10] + ".sh");
        try
        {
            return StartInPod(layout, targetPid, hostRoot, script);
        }
        finally
        {
            // sh has read the whole script once it runs unshare; the daemon is ready by the time Start returns.
            File.Delete(script);
        }
    }

    private static DaemonProcess StartInPod(PodCgroupLayout layout, int targetPid, string? hostRoot, string script)
    {
        return DaemonProcess.Start(
            c =>
            {
                var sampling = TestConfig.FastSampling();
                if (hostRoot is not null)
                {
                    sampling["HostCgroupRoot"] = hostRoot;
                }

                c["Sampling"] = sampling;
                c["Targets"] = new[] { new Dictionary<string, object?> { ["Name"] = "pod", ["Pid"] = targetPid } };
            },
            prefix: PodNamespaces.Prefix(script, layout.WatcherDirectory, hostRoot));
    }

    private static void DeleteEmptyTree(string directory)
    {
        // Only empty directories: the bind lived in the daemon's mount namespace, which ended with it.
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (string dir in Directory.GetDirectories(directory, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(directory))
        {
            Directory.Delete(dir);
        }
    }
}
