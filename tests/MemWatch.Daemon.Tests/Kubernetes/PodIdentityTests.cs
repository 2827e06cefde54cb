using System.Globalization;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Kubernetes;

/// <summary>
/// Pod names on the target's series: from the Kubernetes API in DaemonSet mode (a node-scoped list and watch of pods,
/// served by <see cref="FakeKubernetesApi"/>: no cluster exists here), from the downward API in sidecar mode; and an
/// API server that refuses or hangs never stops sampling. The target is a real process in a real kubelet-shaped
/// memory cgroup (<c>kubepods/burstable/pod&lt;uid&gt;/&lt;id&gt;</c>), whose path carries the pod UID and container id.
/// </summary>
public sealed class PodIdentityTests
{
    private const string Node = "node-a";

    [Fact]
    public void DaemonSetMode_PodAddedAfterTheTargetAppeared_LabelsItsSeriesWithPodNamespaceAndContainer()
    {
        using var layout = new PodCgroupLayout(256UL << 20);
        using Workload target = Workload.Start("cgroup_alloc.c");
        PodCgroupLayout.Join(layout.TargetDirectory, target.Pid);
        // The list knows only another pod of the node; the target's pod arrives through the watch.
        using var api = new FakeKubernetesApi(FakeKubernetesApi.Behaviour.Serve, "41000",
            FakeKubernetesApi.Pod(Node, "cache-0", "infra", Guid.NewGuid().ToString(), "40990", "redis", new string('c', 64)));
        string token = Path.Combine(Path.GetTempPath(), "memwatch-k8s-token-" + Guid.NewGuid().ToString("N")[..10]);
        File.WriteAllText(token, "eyJhbGciOiJSUzI1NiJ9.test-token\n");
        try
        {
            using DaemonProcess daemon = Start(target.Pid, new() { ["NodeName"] = Node, ["ApiServer"] = api.Url, ["TokenFile"] = token });
            daemon.AssertLogged("Kubernetes API: 1 pods on node node-a", TimeSpan.FromSeconds(60));
            Poll.Until(() => MetricsText.Value(daemon.Metrics(), "memwatch_process_resident_bytes", Pid(target)) is not null,
                TimeSpan.FromSeconds(60), () => "target not watched:\n" + daemon.Output);
            Assert.DoesNotContain("pod=\"", Series(daemon.Metrics(), target), StringComparison.Ordinal);

            api.Emit("ADDED", FakeKubernetesApi.Pod(Node, "shop-api-7d9f8c6b5-x2x9q", "shop", layout.PodUid, "41007", "server", layout.ContainerId));

            string line = Poll.Until(
                () => Series(daemon.Metrics(), target) is { } s && s.Contains("pod=", StringComparison.Ordinal) ? s : null,
                TimeSpan.FromSeconds(60), () => "no pod label:\n" + daemon.Output);
            Assert.Contains("pod=\"shop-api-7d9f8c6b5-x2x9q\"", line, StringComparison.Ordinal);
            Assert.Contains("namespace=\"shop\"", line, StringComparison.Ordinal);
            Assert.Contains("container=\"server\"", line, StringComparison.Ordinal);
            Assert.Contains($"container_id=\"containerd://{layout.ContainerId}\"", line, StringComparison.Ordinal);

            (string list, string? auth) = api.Requests.First();
            Assert.Equal("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a", list);
            Assert.Equal("Bearer eyJhbGciOiJSUzI1NiJ9.test-token", auth);
            Assert.Contains(api.Requests, r => r.PathAndQuery.Contains("&watch=1&", StringComparison.Ordinal)
                && r.PathAndQuery.EndsWith("&resourceVersion=41000", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(token);
        }
    }

    [Theory]
    [InlineData(FakeKubernetesApi.Behaviour.Forbid)]
    [InlineData(FakeKubernetesApi.Behaviour.Hang)]
    public void DaemonSetMode_ApiRefusingOrHanging_SamplingGoesOn(FakeKubernetesApi.Behaviour behaviour)
    {
        using var layout = new PodCgroupLayout(256UL << 20);
        using Workload target = Workload.Start("cgroup_alloc.c");
        PodCgroupLayout.Join(layout.TargetDirectory, target.Pid);
        using var api = new FakeKubernetesApi(behaviour, "1");

        using DaemonProcess daemon = Start(target.Pid, new() { ["NodeName"] = Node, ["ApiServer"] = api.Url, ["TokenFile"] = "/nonexistent" });

        // Sampled, with its cgroup read at the rollups, while the API answers nothing useful.
        Poll.Until(() => MetricsText.Value(daemon.Metrics(), "memwatch_process_cgroup_limit_bytes", Pid(target)) is not null,
            TimeSpan.FromSeconds(60), () => "target not sampled:\n" + daemon.Output);

        // The watcher's first request and the sampler's first rollup start together: either may come first.
        Poll.Until(() => !api.Requests.IsEmpty, TimeSpan.FromSeconds(30), () => "no request reached the API:\n" + daemon.Output);
        if (behaviour == FakeKubernetesApi.Behaviour.Forbid)
        {
            daemon.AssertLogged("Kubernetes API: pods of node node-a not available (KubernetesApiException: 403 pods is forbidden", TimeSpan.FromSeconds(30));
        }

        Assert.DoesNotContain("pod=\"", Series(daemon.Metrics(), target), StringComparison.Ordinal);
    }

    [Fact]
    public void SidecarMode_DownwardApiVariables_NameThePod()
    {
        using Workload target = Workload.Start("cgroup_alloc.c");

        using DaemonProcess daemon = DaemonProcess.Start(
            c =>
            {
                c["Sampling"] = TestConfig.FastSampling();
                c["Targets"] = new[] { new Dictionary<string, object?> { ["Name"] = "app", ["Pid"] = target.Pid } };
            },
            environment: new Dictionary<string, string>
            {
                // As the chart's sidecar container sets them: fieldRef metadata.name and metadata.namespace.
                ["MEMWATCH_Kubernetes__PodName"] = "shop-api-7d9f8c6b5-x2x9q",
                ["MEMWATCH_Kubernetes__PodNamespace"] = "shop",
            });

        string line = Poll.Until(() => Series(daemon.Metrics(), target), TimeSpan.FromSeconds(60), () => "target not watched:\n" + daemon.Output);
        Assert.Contains("pod=\"shop-api-7d9f8c6b5-x2x9q\",namespace=\"shop\"", line, StringComparison.Ordinal);
    }

    private static DaemonProcess Start(int pid, Dictionary<string, object?> kubernetes) => DaemonProcess.Start(c =>
    {
        c["Sampling"] = TestConfig.FastSampling();
        c["Targets"] = new[] { new Dictionary<string, object?> { ["Name"] = "pods", ["Pid"] = pid } };
        c["Kubernetes"] = kubernetes;
    });

    private static string Pid(Workload w) => $"pid=\"{w.Pid.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>The target's memwatch_process_resident_bytes line, or null while it has none.</summary>
    private static string? Series(string metrics, Workload target) => metrics.Split('\n').FirstOrDefault(
        l => l.StartsWith("memwatch_process_resident_bytes{", StringComparison.Ordinal) && l.Contains(Pid(target), StringComparison.Ordinal));
}
