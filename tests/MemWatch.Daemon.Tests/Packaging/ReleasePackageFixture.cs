using System.Diagnostics;
using MemWatch.Daemon.Tests.Deploy;

namespace MemWatch.Daemon.Tests.Packaging;

/// <summary>Runs scripts/package once, from the executable the tests run, into a scratch directory.</summary>
public sealed class ReleasePackageFixture : IDisposable
{
    private readonly TempDirectory _out = new();

    public ReleasePackageFixture()
    {
        var watch = Stopwatch.StartNew();
        ExternalTool.Result r = ExternalTool.Run(
            SourceTree.Combine("scripts", "package"),
            ["--publish-dir", Path.GetDirectoryName(MemwatchCli.ExecutablePath)!, "--out", _out.Path],
            timeout: TimeSpan.FromMinutes(5));
        BuildTime = watch.Elapsed;
        Assert.True(r.ExitCode == 0, $"scripts/package failed ({r.ExitCode}):\n{r.Output}");
        Assert.Equal(
            [Deb, Tarball, _out.Combine("SHA256SUMS")],
            r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public string Directory => _out.Path;

    public string Deb => _out.Combine($"memwatch_{SourceTree.Version}_amd64.deb");

    public string Tarball => _out.Combine($"memwatch-{SourceTree.Version}-linux-x64.tar.gz");

    public TimeSpan BuildTime { get; }

    public void Dispose() => _out.Dispose();
}
