namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// The chart's rendered manifests and the sidecar example against the Kubernetes and Prometheus Operator API schemas
/// (kubernetes-models, installed by scripts/install-deps --test): types, required fields, enums. Unknown fields pass.
/// </summary>
public sealed class KubernetesSchemaTests
{
    private const string InstalledSchemas = "/usr/local/lib/memwatch-test/kubernetes-schemas";

    private static string Chart => DeployTree.File("helm", "memwatch");

    [Theory]
    [InlineData("serviceMonitor.enabled=true,prometheusRule.enabled=true,grafanaDashboard.enabled=true")]
    [InlineData("introspection.enabled=true,authSecret=memwatch-token,serviceMonitor.enabled=true")]
    [InlineData("readOtherProcesses=false,daemonset.priorityClassName=system-node-critical")]
    [InlineData("mode=sidecar,sidecar.podSelector.app=api,serviceMonitor.enabled=true")]
    public void RenderedManifestsMatchTheApiSchemas(string set)
    {
        ExternalTool.Result rendered = ExternalTool.Run("helm", ["template", "memwatch", Chart, "--set", set]);
        Assert.True(rendered.ExitCode == 0, rendered.Output);

        ExternalTool.Result r = Validate(rendered.StandardOutput);

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.All(r.StandardOutput.Trim().Split('\n'), line => Assert.StartsWith("OK ", line, StringComparison.Ordinal));
    }

    [Fact]
    public void SidecarExampleMatchesTheApiSchemas()
    {
        ExternalTool.Result r = Validate(File.ReadAllText(Path.Combine(Chart, "examples", "sidecar-deployment.yaml")));

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Equal("OK Deployment/api", r.StandardOutput.Trim());
    }

    /// <summary>The validator is not a rubber stamp: a string where the API wants a boolean is an error.</summary>
    [Fact]
    public void AWrongTypeIsReported()
    {
        ExternalTool.Result rendered = ExternalTool.Run("helm", ["template", "memwatch", Chart]);
        Assert.Contains("hostPID: true", rendered.StandardOutput, StringComparison.Ordinal);

        ExternalTool.Result r = Validate(rendered.StandardOutput.Replace("hostPID: true", "hostPID: \"yes\"", StringComparison.Ordinal));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ERROR DaemonSet/memwatch: data/spec/template/spec/hostPID must be boolean", r.StandardOutput, StringComparison.Ordinal);
    }

    private static ExternalTool.Result Validate(string manifests)
    {
        Assert.True(Directory.Exists(Path.Combine(InstalledSchemas, "node_modules")), $"{InstalledSchemas} is missing: run scripts/install-deps --test");
        using var dir = new TempDirectory();
        // The script resolves its imports from node_modules beside it.
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Deploy", "KubernetesSchemas", "validate.mjs"), dir.Combine("validate.mjs"));
        Directory.CreateSymbolicLink(dir.Combine("node_modules"), Path.Combine(InstalledSchemas, "node_modules"));

        return ExternalTool.Run("node", [dir.Combine("validate.mjs")], dir.Path, standardInput: manifests);
    }
}
