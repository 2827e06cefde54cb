using System.Text.Json.Nodes;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Tests.Deploy;

namespace MemWatch.Daemon.Tests.EndToEnd;

/// <summary>
/// The configurations deploy/ ships are ones the daemon accepts: the systemd sample as installed, and the Helm chart's
/// ConfigMap as helm renders it, through the loader <c>memwatch run --config</c> uses (binding with unknown keys as
/// errors, then validation). The deploy tests check their shape; this checks that the daemon agrees.
/// </summary>
public sealed class ShippedConfigurationTests
{
    [Fact]
    public void TheSystemdSampleConfigLoads()
    {
        // The unit's StateDirectory=memwatch makes systemd set STATE_DIRECTORY; the sample leaves the path to it.
        DaemonSettings settings = DaemonConfigurationLoader.Load(
            DeployTree.File("systemd", "memwatch.json"), null,
            new Dictionary<string, string?> { ["STATE_DIRECTORY"] = "/var/lib/memwatch" });

        Assert.Empty(settings.Warnings);
        Assert.Equal("127.0.0.1:9487", settings.Listen.ToString());
        Assert.Equal("/var/lib/memwatch", settings.StateDirectory);
        Assert.Equal(["default", "api"], settings.Rules.Select(r => r.Name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("authSecret=memwatch-token")]
    [InlineData("mode=sidecar,sidecar.podSelector.app=api")]
    [InlineData("introspection.enabled=true,config.Targets[0].Name=api,config.Targets[0].Comm=^api$,config.Targets[0].Introspect=true,config.Targets[0].AllowActions=true,authSecret=memwatch-token")]
    public void TheHelmChartsRenderedConfigLoads(string set)
    {
        List<string> args = ["template", "memwatch", DeployTree.File("helm", "memwatch")];
        if (set.Length > 0)
        {
            args.AddRange(["--set", set]);
        }

        ExternalTool.Result r = ExternalTool.Run("helm", args);
        Assert.True(r.ExitCode == 0, r.Output);
        Dictionary<object, object> configMap = Assert.Single(
            Yaml.Documents(r.StandardOutput), d => Yaml.Text(d, "kind") == "ConfigMap" && Yaml.Has(d, "data", "memwatch.json"));
        JsonNode config = JsonNode.Parse(Yaml.Text(configMap, "data", "memwatch.json"))!;

        using var dir = new TempDirectory();
        // The token file lives in the pod's mounted Secret; here a local file with a token stands in for it.
        if (config["Auth"]?["TokenFile"] is not null)
        {
            string token = dir.Combine("token");
            File.WriteAllText(token, new string('t', 32) + "\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            config["Auth"]!["TokenFile"] = token;
        }

        string file = dir.Combine("memwatch.json");
        File.WriteAllText(file, config.ToJsonString());

        DaemonSettings settings = DaemonConfigurationLoader.Load(file, null, new Dictionary<string, string?>());

        Assert.Empty(settings.Warnings);
        Assert.Equal("0.0.0.0:9487", settings.Listen.ToString());
        Assert.NotEmpty(settings.Rules);
        Assert.Equal(config["Auth"] is not null, settings.Token is not null);
    }
}
