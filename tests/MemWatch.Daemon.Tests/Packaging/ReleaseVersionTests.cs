using MemWatch.Daemon.Tests.Deploy;

namespace MemWatch.Daemon.Tests.Packaging;

/// <summary>The release version is written once (Directory.Build.props) and everything that carries it agrees.</summary>
public sealed class ReleaseVersionTests
{
    [Fact]
    public void VersionOptionPrintsTheRelease()
    {
        MemwatchCli.Result r = MemwatchCli.Run(["--version"]);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(SourceTree.Version, r.StandardOutput.Trim());
    }

    /// <summary>Helm cannot read Directory.Build.props: the chart's appVersion (its default image tag) is a copy, checked here.</summary>
    [Fact]
    public void ChartPointsAtTheImageScriptsImageBuilds()
    {
        Dictionary<object, object> chart = Yaml.Single(DeployTree.ReadAllText("helm", "memwatch", "Chart.yaml"));
        Dictionary<object, object> values = Yaml.Single(DeployTree.ReadAllText("helm", "memwatch", "values.yaml"));
        string script = File.ReadAllText(SourceTree.Combine("scripts", "image"));

        Assert.Equal(SourceTree.Version, Yaml.Text(chart, "appVersion"));
        Assert.Equal("", Yaml.Text(values, "image", "tag"));
        Assert.Contains($"tag=\"{Yaml.Text(values, "image", "repository")}:$version\"", script);
    }
}
