using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Cgroups;

/// <summary>
/// A reader in a pod's container, in its own cgroup namespace, on a cgroup v2 node with the systemd driver's kubepods
/// layout: its own <c>/sys/fs/cgroup</c> shows only its container, the host's tree is bound at
/// <c>/host/sys/fs/cgroup</c>, and another pod's process is listed as <c>/../../../kubepods-burstable.slice/...</c>.
/// The tree is composed in a temporary directory (kernel file names, fake contents).
/// </summary>
public sealed class CgroupNamespaceResolverTests : IDisposable
{
    private const int SelfPid = 4242;
    private const int TargetPid = 777;
    private const string Watcher = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podaaaa.slice/cri-containerd-aaaa.scope";
    private const string TargetPod = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podbbbb.slice";
    private const string Target = TargetPod + "/cri-containerd-bbbb.scope";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "memwatch-cgns-" + Guid.NewGuid().ToString("N")[..10]);

    public CgroupNamespaceResolverTests()
    {
        string host = Path.Combine(_root, "fs", "host", "sys", "fs", "cgroup");
        Directory.CreateDirectory(host + Watcher);
        Directory.CreateDirectory(host + Target);
        // A decoy at the watcher's depth, listed first by some file systems: not the reader's cgroup.
        Directory.CreateDirectory(host + "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podcccc.slice/cri-containerd-cccc.scope");
        File.WriteAllText(host + "/cgroup.controllers", "cpuset cpu io memory pids\n");
        File.WriteAllText(host + Watcher + "/cgroup.procs", SelfPid + "\n");
        File.WriteAllText(host + Target + "/cgroup.procs", TargetPid + "\n");
        Directory.CreateDirectory(Path.Combine(_root, "proc", SelfPid.ToString()));
        Directory.CreateDirectory(Path.Combine(_root, "proc", TargetPid.ToString()));
        File.WriteAllText(Path.Combine(_root, "proc", SelfPid.ToString(), "cgroup"), "0::/\n");
        File.WriteAllText(Path.Combine(_root, "proc", TargetPid.ToString(), "cgroup"), "0::/../../../kubepods-burstable.slice/kubepods-burstable-podbbbb.slice/cri-containerd-bbbb.scope\n");
    }

    private static MountInfo Mounts => MountInfo.Parse(
        """
        900 800 0:40 / / rw - overlay overlay rw
        901 900 0:41 / /sys rw - sysfs sysfs ro
        902 901 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup rw
        903 900 0:42 / /host rw - tmpfs tmpfs rw
        904 903 0:27 /../../../.. /host/sys/fs/cgroup ro - cgroup2 cgroup2 rw
        """u8.ToArray(), "mountinfo");

    private CgroupResolver Resolver(string? hostRoot) =>
        new(new ProcFileSystem(Path.Combine(_root, "proc")), Path.Combine(_root, "fs"), Mounts, hostRoot, SelfPid);

    [Theory]
    [InlineData("/host/sys/fs/cgroup")]
    [InlineData(null)]
    public void ResolveMemory_OtherPodFromInsideACgroupNamespace_MapsIntoTheHostTree(string? hostRoot)
    {
        CgroupResolver resolver = Resolver(hostRoot);

        Assert.True(resolver.TryResolveMemory(TargetPid, new FileBuffer(), out CgroupLocation? l));

        Assert.NotNull(l);
        Assert.Equal(Path.Combine(_root, "fs") + "/host/sys/fs/cgroup" + Target, l.Directory);
        Assert.Equal(Path.Combine(_root, "fs") + "/host/sys/fs/cgroup", l.MountDirectory);
        Assert.Equal(Target, l.HostPath);
        Assert.Equal("/../../../kubepods-burstable.slice/kubepods-burstable-podbbbb.slice/cri-containerd-bbbb.scope", l.Path);
    }

    [Fact]
    public void PlacePath_OtherPod_IsTheHostsPath()
    {
        ProcCgroup cgroups = ProcCgroup.Parse(File.ReadAllBytes(Path.Combine(_root, "proc", TargetPid.ToString(), "cgroup")), "cgroup");

        Assert.Equal(Target, Resolver("/host/sys/fs/cgroup").PlacePath(cgroups, new FileBuffer()));
    }

    [Fact]
    public void ResolveMemory_HostRootWithoutTheHostTree_IsNotResolved()
    {
        // Limited to a directory holding no cgroup mount: nothing shows the other pod.
        CgroupResolver resolver = Resolver("/elsewhere");

        Assert.True(resolver.TryResolveMemory(TargetPid, new FileBuffer(), out CgroupLocation? l));
        Assert.Null(l);
        Assert.False(resolver.HasCgroupMounts(new FileBuffer()));
    }

    [Fact]
    public void ResolveMemory_ReaderNotFoundInTheHostTree_IsNotResolved()
    {
        File.WriteAllText(Path.Combine(_root, "fs") + "/host/sys/fs/cgroup" + Watcher + "/cgroup.procs", "");

        Assert.True(Resolver("/host/sys/fs/cgroup").TryResolveMemory(TargetPid, new FileBuffer(), out CgroupLocation? l));
        Assert.Null(l);
    }

    [Theory]
    [InlineData("/", 0, "")]
    [InlineData("/a/b", 0, "/a/b")]
    [InlineData("/../..", 2, "")]
    [InlineData("/../../x/y/", 2, "/x/y")]
    public void NamespacedCgroupPath_Parse(string path, int ups, string below)
    {
        Assert.Equal(new NamespacedCgroupPath(ups, below), NamespacedCgroupPath.Parse(path));
    }

    [Theory]
    [InlineData("relative")]
    [InlineData("/a/../b")]
    [InlineData("/a/./b")]
    public void NamespacedCgroupPath_Malformed_IsNull(string path)
    {
        Assert.Null(NamespacedCgroupPath.Parse(path));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
