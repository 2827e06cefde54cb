using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.ProcFs;

/// <summary>Where /proc and /sys paths land for the host's trees and for a fixture's.</summary>
public sealed class ProcFileSystemTests
{
    [Fact]
    public void HostTrees_LeaveMountPointsAlone()
    {
        var fs = new ProcFileSystem();
        Assert.Equal("/proc/7/status", fs.ProcessPath(7, "status"));
        Assert.Equal("/sys/devices/system/cpu/online", fs.SysPath("devices/system/cpu/online"));
        Assert.Equal("/sys/fs/cgroup", fs.MountPath("/sys/fs/cgroup"));
    }

    [Theory]
    [InlineData("/sys/fs/cgroup", "/fixture/sys/fs/cgroup")]
    [InlineData("/sys", "/fixture/sys")]
    [InlineData("/sysroot/data", "/sysroot/data")]
    [InlineData("/host/sys/fs/cgroup", "/host/sys/fs/cgroup")]
    [InlineData("/", "/")]
    public void AnotherSysRoot_TakesOnlyMountsUnderSys(string mountPoint, string expected)
    {
        var fs = new ProcFileSystem("/fixture/proc/", "/fixture/sys/");
        Assert.Equal("/fixture/proc", fs.Root);
        Assert.Equal("/fixture/sys", fs.SysRoot);
        Assert.Equal(expected, fs.MountPath(mountPoint));
    }
}
