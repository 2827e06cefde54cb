using System.Text.Json.Nodes;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// deploy/helm/memwatch through a real helm (lint --strict, template) and the rendered manifests parsed as YAML.
/// Not checked against the Kubernetes API schemas: deploy/helm/memwatch/README.md says what is not verified.
/// </summary>
public sealed class HelmChartTests
{
    private static readonly string[] s_rbacKinds = ["ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

    private static string Chart => DeployTree.File("helm", "memwatch");

    [Theory]
    [InlineData("")]
    [InlineData("mode=sidecar,sidecar.podSelector.app=api")]
    [InlineData("introspection.enabled=true,serviceMonitor.enabled=true,prometheusRule.enabled=true,grafanaDashboard.enabled=true,authSecret=memwatch-token")]
    public void LintIsClean(string set)
    {
        List<string> args = ["lint", "--strict", Chart];
        if (set.Length > 0)
        {
            args.AddRange(["--set", set]);
        }

        ExternalTool.Result r = ExternalTool.Run("helm", args);

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("0 chart(s) failed", r.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[WARNING]", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void DaemonSetModeWatchesEveryNode()
    {
        List<Dictionary<object, object>> docs = Render("memwatch");

        Assert.Equal(["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Service", "ServiceAccount"], docs.Select(Kind).Order());

        Dictionary<object, object> pod = Yaml.Map(Single(docs, "DaemonSet"), "spec", "template", "spec");
        Assert.Equal("true", Yaml.Text(pod, "hostPID"));
        Assert.Equal("Exists", Yaml.Text(pod, "tolerations", 0, "operator"));

        Dictionary<object, object> container = Yaml.Map(pod, "containers", 0);
        Assert.Equal("/healthz", Yaml.Text(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("/readyz", Yaml.Text(container, "readinessProbe", "httpGet", "path"));
        Assert.True(Yaml.Has(container, "resources", "requests", "memory") && Yaml.Has(container, "resources", "limits", "memory"));
        Assert.Equal("false", Yaml.Text(container, "securityContext", "allowPrivilegeEscalation"));
        Assert.Equal("true", Yaml.Text(container, "securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("false", Yaml.Text(container, "securityContext", "privileged"));
        Assert.Equal("http-metrics", Yaml.Text(container, "ports", 0, "name"));

        // The Service reaches the container's named port, and the config volume is the chart's ConfigMap.
        Dictionary<object, object> service = Single(docs, "Service");
        Assert.Equal("http-metrics", Yaml.Text(service, "spec", "ports", 0, "targetPort"));
        string configMap = Yaml.Text(Single(docs, "ConfigMap"), "metadata", "name");
        Assert.Contains(Yaml.List(pod, "volumes"), v => Yaml.Has(v, "configMap") && Yaml.Text(v, "configMap", "name") == configMap);
    }

    /// <summary>The API path: a service account that may only get, list and watch pods, and the node's name.</summary>
    [Fact]
    public void DaemonSetModeNamesPodsThroughTheApiWithPodReadOnlyRbac()
    {
        List<Dictionary<object, object>> docs = Render("memwatch");

        Dictionary<object, object> pod = Yaml.Map(Single(docs, "DaemonSet"), "spec", "template", "spec");
        string account = Yaml.Text(Single(docs, "ServiceAccount"), "metadata", "name");
        Assert.Equal(account, Yaml.Text(pod, "serviceAccountName"));
        Assert.Equal("true", Yaml.Text(pod, "automountServiceAccountToken"));
        object rule = Assert.Single(Yaml.List(Single(docs, "ClusterRole"), "rules"));
        Assert.Equal(["pods"], Yaml.List(rule, "resources").Cast<string>());
        Assert.Equal(["get", "list", "watch"], Yaml.List(rule, "verbs").Cast<string>());
        Dictionary<object, object> binding = Single(docs, "ClusterRoleBinding");
        Assert.Equal(Yaml.Text(Single(docs, "ClusterRole"), "metadata", "name"), Yaml.Text(binding, "roleRef", "name"));
        Assert.Equal(account, Yaml.Text(binding, "subjects", 0, "name"));
        object env = Assert.Single(Yaml.List(pod, "containers", 0, "env"), e => Yaml.Text(e, "name") == "MEMWATCH_Kubernetes__NodeName");
        Assert.Equal("spec.nodeName", Yaml.Text(env, "valueFrom", "fieldRef", "fieldPath"));

        List<Dictionary<object, object>> without = Render("memwatch", "kubernetesApi.enabled=false");
        Assert.DoesNotContain(without, d => s_rbacKinds.Contains(Kind(d)));
        Dictionary<object, object> plain = Yaml.Map(Single(without, "DaemonSet"), "spec", "template", "spec");
        Assert.Equal("false", Yaml.Text(plain, "automountServiceAccountToken"));
        Assert.DoesNotContain(Yaml.List(plain, "containers", 0, "env"), e => Yaml.Text(e, "name").StartsWith("MEMWATCH_Kubernetes", StringComparison.Ordinal));
    }

    /// <summary>The host's cgroup tree, read-only, where Sampling.HostCgroupRoot says (PodCgroupTests proves the daemon side).</summary>
    [Fact]
    public void DaemonSetModeMountsTheHostCgroupTreeWhereTheConfigurationLooks()
    {
        List<Dictionary<object, object>> docs = Render("memwatch");

        JsonNode config = JsonNode.Parse(Yaml.Text(Single(docs, "ConfigMap"), "data", "memwatch.json"))!;
        string root = (string)config["Sampling"]!["HostCgroupRoot"]!;
        Assert.Equal("00:00:05", (string?)config["Sampling"]!["Interval"]);
        Dictionary<object, object> pod = Yaml.Map(Single(docs, "DaemonSet"), "spec", "template", "spec");
        object mount = Assert.Single(Yaml.List(pod, "containers", 0, "volumeMounts"), m => Yaml.Text(m, "mountPath") == root);
        Assert.Equal("true", Yaml.Text(mount, "readOnly"));
        object volume = Assert.Single(Yaml.List(pod, "volumes"), v => Yaml.Text(v, "name") == Yaml.Text(mount, "name"));
        Assert.Equal("/sys/fs/cgroup", Yaml.Text(volume, "hostPath", "path"));

        JsonNode off = JsonNode.Parse(Yaml.Text(Single(Render("memwatch", "hostCgroups=false"), "ConfigMap"), "data", "memwatch.json"))!;
        Assert.Null(off["Sampling"]!["HostCgroupRoot"]);
    }

    /// <summary>History survives an upgrade when it is kept on the node or on a claim.</summary>
    [Theory]
    [InlineData("", "emptyDir", null)]
    [InlineData("state.type=hostPath", "hostPath", "/var/lib/memwatch")]
    [InlineData("state.type=existingClaim,state.existingClaim=memwatch-history", "persistentVolumeClaim", "memwatch-history")]
    public void StateVolumeFollowsTheStateValues(string set, string kind, string? where)
    {
        Dictionary<object, object> pod = Yaml.Map(Single(Render("memwatch", set), "DaemonSet"), "spec", "template", "spec");

        object state = Assert.Single(Yaml.List(pod, "volumes"), v => Yaml.Text(v, "name") == "memwatch-state");
        Assert.True(Yaml.Has(state, kind), kind);
        if (where is not null)
        {
            Assert.Equal(where, Yaml.Text(state, kind, kind == "hostPath" ? "path" : "claimName"));
        }
    }

    /// <summary>kube-prometheus-stack selects ServiceMonitors and PrometheusRules by its release label.</summary>
    [Fact]
    public void MonitoringLabelsReachTheServiceMonitorAndThePrometheusRule()
    {
        List<Dictionary<object, object>> docs = Render("memwatch", "serviceMonitor.enabled=true,prometheusRule.enabled=true,monitoringLabels.release=kube-prometheus-stack");

        Assert.Equal("kube-prometheus-stack", Yaml.Text(Single(docs, "ServiceMonitor"), "metadata", "labels", "release"));
        Assert.Equal("kube-prometheus-stack", Yaml.Text(Single(docs, "PrometheusRule"), "metadata", "labels", "release"));
    }

    [Fact]
    public void ConfigMapHoldsTheDaemonConfiguration()
    {
        List<Dictionary<object, object>> docs = Render("memwatch", "authSecret=memwatch-token,config.Auth.AnonymousReads=true");

        JsonNode config = JsonNode.Parse(Yaml.Text(Single(docs, "ConfigMap"), "data", "memwatch.json"))!;
        Assert.Equal("0.0.0.0:9487", (string?)config["Listen"]);
        Assert.Equal("/var/lib/memwatch", (string?)config["StateDirectory"]);
        Assert.Equal(50, (int?)config["Targets"]![0]!["MinRssMiB"]);
        Assert.Equal("00:00:05", (string?)config["Sampling"]!["Interval"]);

        // The token file sits in the mounted Secret, and the state directory is writable.
        string tokenFile = (string)config["Auth"]!["TokenFile"]!;

        // The chart adds the token file to the values' Auth section; it does not replace the section.
        Assert.True((bool?)config["Auth"]!["AnonymousReads"]);
        Dictionary<object, object> pod = Yaml.Map(Single(docs, "DaemonSet"), "spec", "template", "spec");
        List<object> mounts = Yaml.List(pod, "containers", 0, "volumeMounts");
        object secretMount = Assert.Single(mounts, m => Yaml.Text(m, "name") == "memwatch-auth");
        Assert.Equal(Path.GetDirectoryName(tokenFile), Yaml.Text(secretMount, "mountPath"));
        Assert.Contains(Yaml.List(pod, "volumes"), v => Yaml.Text(v, "name") == "memwatch-auth" && Yaml.Text(v, "secret", "secretName") == "memwatch-token");
        Assert.Contains(mounts, m => Yaml.Text(m, "mountPath") == "/var/lib/memwatch" && !Yaml.Has(m, "readOnly"));
    }

    [Theory]
    [InlineData(true, false, true)]
    [InlineData(false, false, false)]
    [InlineData(false, true, true)]
    public void CapabilitiesAreAddedOnlyWhenNeeded(bool readOtherProcesses, bool introspection, bool added)
    {
        List<Dictionary<object, object>> docs = Render("memwatch", $"readOtherProcesses={Bool(readOtherProcesses)},introspection.enabled={Bool(introspection)}");

        Dictionary<object, object> caps = Yaml.Map(Single(docs, "DaemonSet"), "spec", "template", "spec", "containers", 0, "securityContext", "capabilities");
        Assert.Equal(["ALL"], Yaml.List(caps, "drop").Cast<string>());
        if (added)
        {
            Assert.Equal(["SYS_PTRACE", "DAC_READ_SEARCH"], Yaml.List(caps, "add").Cast<string>());
        }
        else
        {
            Assert.False(caps.ContainsKey("add"));
        }
    }

    [Theory]
    [InlineData(true, "SYS_PTRACE,DAC_READ_SEARCH,PERFMON")]
    [InlineData(false, "PERFMON")]
    public void AttributionAddsPerfmonOnlyWhenEnabled(bool readOtherProcesses, string expected)
    {
        List<Dictionary<object, object>> on = Render("memwatch", $"readOtherProcesses={Bool(readOtherProcesses)},attribution.enabled=true");
        Dictionary<object, object> caps = Yaml.Map(Single(on, "DaemonSet"), "spec", "template", "spec", "containers", 0, "securityContext", "capabilities");
        Assert.Equal(expected.Split(','), Yaml.List(caps, "add").Cast<string>());

        List<Dictionary<object, object>> off = Render("memwatch", $"readOtherProcesses={Bool(readOtherProcesses)}");
        Dictionary<object, object> offCaps = Yaml.Map(Single(off, "DaemonSet"), "spec", "template", "spec", "containers", 0, "securityContext", "capabilities");
        Assert.False(offCaps.ContainsKey("add") && Yaml.List(offCaps, "add").Cast<string>().Contains("PERFMON"));
    }

    [Fact]
    public void SidecarModeSchedulesNothingAndSelectsTheAppPods()
    {
        List<Dictionary<object, object>> docs = Render("api-memwatch", "mode=sidecar,sidecar.podSelector.app=api");

        Assert.Equal(["ConfigMap", "Service"], docs.Select(Kind).Order());
        Dictionary<object, object> selector = Yaml.Map(Single(docs, "Service"), "spec", "selector");
        Assert.Equal("api", Assert.Single(selector).Value);
    }

    [Fact]
    public void SidecarModeWithoutAPodSelectorIsRefused()
    {
        ExternalTool.Result r = ExternalTool.Run("helm", ["template", "api-memwatch", Chart, "--set", "mode=sidecar"]);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("set sidecar.podSelector", r.StandardError, StringComparison.Ordinal);
    }

    /// <summary>values.schema.json turns mistakes into errors at install time instead of a broken pod.</summary>
    [Theory]
    [InlineData("mode=deployment", "mode must be one of the following")]
    [InlineData("config.Listen=0.0.0.0:1", "config: Must not validate the schema")]
    [InlineData("config.Targets[0].Name=api,config.Targets[0].Units=api.service", "Additional property Units is not allowed")]
    [InlineData("port=0", "port: Must be greater than or equal to 1")]
    [InlineData("config.Auth.TokenFile=/etc/token", "Additional property TokenFile is not allowed")]
    [InlineData("prometheusRule.runbookUrl=wiki/memwatch", "runbookUrl: Does not match pattern")]
    public void SchemaRefusesBadValues(string set, string message)
    {
        ExternalTool.Result r = ExternalTool.Run("helm", ["template", "memwatch", Chart, "--set", set]);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(message, r.StandardError, StringComparison.Ordinal);
    }

    /// <summary>The example pod carries the same container as the chart renders, wired to the chart's ConfigMap.</summary>
    [Fact]
    public void SidecarExampleMatchesTheChart()
    {
        Dictionary<object, object> example = Yaml.Single(File.ReadAllText(Path.Combine(Chart, "examples", "sidecar-deployment.yaml")));
        List<Dictionary<object, object>> docs = Render("api-memwatch", "mode=sidecar,sidecar.podSelector.app=api");
        Dictionary<object, object> daemonSetContainer = Yaml.Map(Single(Render("api-memwatch", "hostCgroups=false"), "DaemonSet"), "spec", "template", "spec", "containers", 0);

        Dictionary<object, object> pod = Yaml.Map(example, "spec", "template", "spec");
        Assert.Equal("true", Yaml.Text(pod, "shareProcessNamespace"));
        Assert.True(Yaml.DeepEquals(Yaml.Map(example, "spec", "template", "metadata", "labels"), Yaml.Map(Single(docs, "Service"), "spec", "selector")));

        object sidecar = Assert.Single(Yaml.List(pod, "containers"), c => Yaml.Text(c, "name") == "memwatch");
        foreach (string key in new[] { "args", "ports" })
        {
            Assert.True(Yaml.DeepEquals(Yaml.At(daemonSetContainer, key), Yaml.At(sidecar, key)), key);
        }

        // The runtime settings are the DaemonSet's; the pod is named by the downward API instead of the node.
        List<object> env = Yaml.List(sidecar, "env");
        Assert.All(Yaml.List(daemonSetContainer, "env").Where(e => Yaml.Text(e, "name").StartsWith("DOTNET_", StringComparison.Ordinal)),
            e => Assert.Contains(env, x => Yaml.DeepEquals(e, x)));
        Assert.Equal("metadata.name", Yaml.Text(Assert.Single(env, e => Yaml.Text(e, "name") == "MEMWATCH_Kubernetes__PodName"), "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.namespace", Yaml.Text(Assert.Single(env, e => Yaml.Text(e, "name") == "MEMWATCH_Kubernetes__PodNamespace"), "valueFrom", "fieldRef", "fieldPath"));

        Assert.True(Yaml.DeepEquals(Yaml.At(daemonSetContainer, "livenessProbe", "httpGet"), Yaml.At(sidecar, "livenessProbe", "httpGet")));
        Assert.True(Yaml.DeepEquals(Yaml.At(daemonSetContainer, "readinessProbe", "httpGet"), Yaml.At(sidecar, "readinessProbe", "httpGet")));
        Assert.True(Yaml.DeepEquals(Yaml.At(daemonSetContainer, "volumeMounts"), Yaml.At(sidecar, "volumeMounts")));
        Assert.Equal(["ALL"], Yaml.List(sidecar, "securityContext", "capabilities", "drop").Cast<string>());

        string configMap = Yaml.Text(Single(docs, "ConfigMap"), "metadata", "name");
        Assert.Contains(Yaml.List(pod, "volumes"), v => Yaml.Has(v, "configMap") && Yaml.Text(v, "configMap", "name") == configMap);
    }

    [Fact]
    public void PrometheusRuleCarriesTheSameRules()
    {
        List<Dictionary<object, object>> docs = Render("memwatch", "prometheusRule.enabled=true");

        Dictionary<object, object> spec = Yaml.Map(Single(docs, "PrometheusRule"), "spec");
        Dictionary<object, object> rules = Yaml.Single(DeployTree.ReadAllText("prometheus", "memwatch.rules.yml"));
        Assert.NotEmpty(Yaml.List(spec, "groups"));
        Assert.True(Yaml.DeepEquals(rules, spec), "the PrometheusRule's spec differs from deploy/prometheus/memwatch.rules.yml");
    }

    [Fact]
    public void RunbookLinksPointWhereTheValuesSay()
    {
        List<Dictionary<object, object>> docs = Render("memwatch", "prometheusRule.enabled=true,prometheusRule.runbookUrl=https://wiki.example.com/sre/memwatch");

        List<string> urls = Yaml.List(Single(docs, "PrometheusRule"), "spec", "groups")
            .SelectMany(g => Yaml.List(g, "rules"))
            .Where(r => Yaml.Has(r, "alert"))
            .Select(r => Yaml.Text(r, "annotations", "runbook_url"))
            .ToList();
        Assert.NotEmpty(urls);
        Assert.All(urls, u => Assert.Matches("^https://wiki\\.example\\.com/sre/memwatch#memwatch[a-z]+$", u));
    }

    [Fact]
    public void DashboardConfigMapCarriesTheDashboard()
    {
        List<Dictionary<object, object>> docs = Render("memwatch", "grafanaDashboard.enabled=true");

        Dictionary<object, object> configMap = Assert.Single(docs, d => Kind(d) == "ConfigMap" && Yaml.Has(d, "data", "memwatch-dashboard.json"));
        Assert.Equal("1", Yaml.Text(configMap, "metadata", "labels", "grafana_dashboard"));
        JsonNode rendered = JsonNode.Parse(Yaml.Text(configMap, "data", "memwatch-dashboard.json"))!;
        JsonNode original = JsonNode.Parse(DeployTree.ReadAllText("grafana", "memwatch-dashboard.json"))!;
        Assert.True(JsonNode.DeepEquals(original, rendered));
    }

    [Fact]
    public void ServiceMonitorScrapesTheServicePort()
    {
        List<Dictionary<object, object>> docs = Render("memwatch", "serviceMonitor.enabled=true");

        Dictionary<object, object> monitor = Single(docs, "ServiceMonitor");
        Dictionary<object, object> service = Single(docs, "Service");
        Assert.Equal(Yaml.Text(service, "spec", "ports", 0, "name"), Yaml.Text(monitor, "spec", "endpoints", 0, "port"));
        Assert.True(Yaml.DeepEquals(Yaml.Map(monitor, "spec", "selector", "matchLabels"),
            Yaml.Map(service, "metadata", "labels").Where(kv => ((string)kv.Key).StartsWith("app.kubernetes.io/", StringComparison.Ordinal) && (string)kv.Key is "app.kubernetes.io/name" or "app.kubernetes.io/instance").ToDictionary()));
        // MemWatchDown matches up{job=~".*memwatch.*"}: the operator names the job after the Service.
        Assert.Contains("memwatch", Yaml.Text(service, "metadata", "name"), StringComparison.Ordinal);
    }

    /// <summary>The chart's copies are the files deploy/prometheus and deploy/grafana test; they must not drift.</summary>
    [Theory]
    [InlineData("memwatch.rules.yml", "prometheus")]
    [InlineData("memwatch-dashboard.json", "grafana")]
    public void ChartFilesAreCopiesOfTheTestedOnes(string file, string folder)
    {
        byte[] copy = File.ReadAllBytes(Path.Combine(Chart, "files", file));
        byte[] original = File.ReadAllBytes(DeployTree.File(folder, file));

        Assert.True(copy.AsSpan().SequenceEqual(original), $"deploy/helm/memwatch/files/{file} differs from deploy/{folder}/{file}: copy it again");
    }

    private static List<Dictionary<object, object>> Render(string release, string set = "")
    {
        List<string> args = ["template", release, Chart];
        if (set.Length > 0)
        {
            args.AddRange(["--set", set]);
        }

        ExternalTool.Result r = ExternalTool.Run("helm", args);
        Assert.True(r.ExitCode == 0, r.Output);
        return Yaml.Documents(r.StandardOutput);
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Kind(Dictionary<object, object> doc) => Yaml.Text(doc, "kind");

    private static Dictionary<object, object> Single(List<Dictionary<object, object>> docs, string kind) => Assert.Single(docs, d => Kind(d) == kind);
}
