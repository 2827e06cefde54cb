using System.Diagnostics;
using MemWatch.Daemon.Tests.Deploy;

namespace MemWatch.Daemon.Tests.Packaging;

/// <summary>
/// Builds the image once with scripts/image (buildah, offline) from the executable the tests run, under a tag of its
/// own, and mounts it read-only so tests can list its files. Removed on dispose.
/// </summary>
public sealed class ContainerImageFixture : IDisposable
{
    public ContainerImageFixture()
    {
        PublishDirectory = Path.GetDirectoryName(MemwatchCli.ExecutablePath)!;
        Tag = $"localhost/memwatch-test-{Guid.NewGuid():N}"[..36] + ":" + SourceTree.Version;
        var watch = Stopwatch.StartNew();
        ExternalTool.Result build = ExternalTool.Run(
            SourceTree.Combine("scripts", "image"), ["--publish-dir", PublishDirectory, "--tag", Tag], timeout: TimeSpan.FromMinutes(10));
        BuildTime = watch.Elapsed;
        Assert.True(build.ExitCode == 0, $"scripts/image failed ({build.ExitCode}):\n{build.Output}");
        Assert.Equal(Tag, build.StandardOutput.Trim());

        ExternalTool.Result mount = ExternalTool.Run("podman", ["image", "mount", Tag]);
        Assert.True(mount.ExitCode == 0, mount.Output);
        Root = mount.StandardOutput.Trim();
    }

    public string Tag { get; }

    public string PublishDirectory { get; }

    /// <summary>The image's root filesystem, mounted.</summary>
    public string Root { get; }

    public TimeSpan BuildTime { get; }

    public void Dispose()
    {
        ExternalTool.Run("podman", ["image", "unmount", Tag]);
        ExternalTool.Run("podman", ["rmi", "--force", Tag]);
    }
}
