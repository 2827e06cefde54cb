using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Cgroups;

public sealed class CgroupResolverTests
{
    private static CgroupLocation? Resolve(string scenario, int pid)
    {
        Assert.True(CgroupFixtures.Resolver(scenario).TryResolveMemory(pid, new FileBuffer(), out CgroupLocation? location));
        return location;
    }

    [Fact]
    public void TryResolveMemory_HybridHost_UsesV1MemoryAndUnifiedForPressure()
    {
        CgroupLocation? l = Resolve("hybrid", CgroupFixtures.TargetPid("hybrid"));

        Assert.Equal(
            new CgroupLocation(
                1,
                "/memwatch-fixture/app",
                CgroupFixtures.Host("hybrid", "/sys/fs/cgroup/memory/memwatch-fixture/app"),
                CgroupFixtures.Host("hybrid", "/sys/fs/cgroup/memory"),
                CgroupFixtures.Host("hybrid", "/sys/fs/cgroup/unified/memwatch-fixture")),
            l);
        Assert.True(Directory.Exists(l!.Directory));
    }

    [Fact]
    public void TryResolveMemory_PureV2Host_UsesUnifiedPath()
    {
        CgroupLocation? l = Resolve("v2-composed", 4321);

        string dir = CgroupFixtures.Host("v2-composed", "/sys/fs/cgroup/system.slice/memwatch-demo.service");
        Assert.Equal(new CgroupLocation(2, "/system.slice/memwatch-demo.service", dir, CgroupFixtures.Host("v2-composed", "/sys/fs/cgroup"), dir), l);
    }

    [Fact]
    public void TryResolveMemory_V2WithoutMemoryController_ReturnsNullLocation()
    {
        string scenario = "v2-composed";
        var fs = new ProcFileSystem(Path.Combine(CgroupFixtures.Dir(scenario), "proc"));
        MountInfo mounts = MountInfo.Parse("25 24 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"u8, "mi");

        // The hybrid fixture's unified mount lists no memory controller in cgroup.controllers.
        var resolver = new CgroupResolver(fs, Path.Combine(CgroupFixtures.Dir("hybrid"), "root"), mounts);

        Assert.True(resolver.TryResolveMemory(4321, new FileBuffer(), out CgroupLocation? l));
        Assert.Null(l);
    }

    [Fact]
    public void TryResolveMemory_KubernetesV2WithCgroupNamespace_MapsRootToMountPoint()
    {
        CgroupLocation? l = Resolve("v2-container-composed", 7);

        Assert.Equal(2, l!.Version);
        Assert.Equal("/", l.Path);
        Assert.Equal(CgroupFixtures.Host("v2-container-composed", "/sys/fs/cgroup"), l.Directory);
    }

    [Fact]
    public void TryResolveMemory_V2ContainerWithoutNamespace_ReportsFullPathAtMountPoint()
    {
        CgroupLocation? l = Resolve("v2-hostns-container-composed", 7);

        Assert.Equal("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f0c.slice/cri-containerd-9a8b7c.scope", l!.Path);
        Assert.Equal(CgroupFixtures.Host("v2-hostns-container-composed", "/sys/fs/cgroup"), l.Directory);
    }

    [Fact]
    public void TryResolveMemory_V1BindMountedContainerCgroup_MapsMountRoot()
    {
        string scenario = "container-bind";
        CgroupLocation? l = Resolve(scenario, CgroupFixtures.TargetPid(scenario));

        Assert.Equal(1, l!.Version);
        Assert.Equal("/memwatch-kubepods/burstable/pod7c9f2e1a/ctr-3b5d", l.Path);
        Assert.Equal(CgroupFixtures.Host(scenario, "/sys/fs/cgroup/memory"), l.Directory);
        Assert.Equal(CgroupFixtures.Host(scenario, "/sys/fs/cgroup/unified"), l.PressureDirectory);
    }

    [Fact]
    public void TryResolveMemory_CgroupOutsideBindMount_IsNotResolvedThroughTheShadowedMount()
    {
        // The reader itself sits in /process_api/...; the host mount with root "/" is hidden under the bind mount.
        ProcCgroup self = ProcCgroup.Parse(CgroupFixtures.Bytes("container-bind/proc/self/cgroup"), "self/cgroup");

        Assert.StartsWith("/process_api/", self.FindController("memory")!.Value.Path);
        Assert.Null(CgroupFixtures.Resolver("container-bind").ResolveMemory(self, new FileBuffer()));
    }

    [Fact]
    public void TryResolveMemory_CgroupNamespace_ResolvesNamespaceRoot()
    {
        string scenario = "container-cgns";
        CgroupLocation? l = Resolve(scenario, CgroupFixtures.TargetPid(scenario));

        Assert.Equal("/", l!.Path);
        Assert.Equal(CgroupFixtures.Host(scenario, "/sys/fs/cgroup/memory"), l.Directory);
    }

    [Fact]
    public void TryResolveMemory_ProcessOutsideCgroupNamespace_ReturnsNullLocation()
    {
        // PID 1 shows "/../../../.." from inside the namespace; the only mount with that root is shadowed.
        Assert.Null(Resolve("container-cgns", 1));
    }

    [Fact]
    public void ResolveMemory_DotDotPathUnderMatchingRoot_MapsTheRemainder()
    {
        MountInfo mounts = MountInfo.Parse("51 47 0:32 /../.. /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"u8, "mi");
        var resolver = new CgroupResolver(new ProcFileSystem("/nonexistent"), "/fixture", mounts);
        ProcCgroup cgroups = ProcCgroup.Parse("4:memory:/../../system.slice/x.service\n"u8, "cg");

        CgroupLocation? l = resolver.ResolveMemory(cgroups, new FileBuffer());

        Assert.Equal("/fixture/sys/fs/cgroup/memory/system.slice/x.service", l!.Directory);
        Assert.Equal("/../../system.slice/x.service", l.Path);
    }

    [Fact]
    public void ResolveMemory_PathEscapingTheMount_ReturnsNull()
    {
        MountInfo mounts = MountInfo.Parse("51 47 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"u8, "mi");
        var resolver = new CgroupResolver(new ProcFileSystem("/nonexistent"), "/", mounts);

        Assert.Null(resolver.ResolveMemory(ProcCgroup.Parse("4:memory:/../other\n"u8, "cg"), new FileBuffer()));
        Assert.Null(resolver.ResolveMemory(ProcCgroup.Parse("4:cpu:/a\n0::/a\n"u8, "cg"), new FileBuffer()));
    }

    [Fact]
    public void ResolveMemory_SiblingWithCommonPrefix_IsNotTakenForAncestor()
    {
        MountInfo mounts = MountInfo.Parse("63 51 0:32 /kube/ctr /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"u8, "mi");
        var resolver = new CgroupResolver(new ProcFileSystem("/nonexistent"), "/", mounts);

        Assert.Null(resolver.ResolveMemory(ProcCgroup.Parse("4:memory:/kube/ctr2\n"u8, "cg"), new FileBuffer()));
        Assert.Equal("/sys/fs/cgroup/memory/sub", resolver.ResolveMemory(ProcCgroup.Parse("4:memory:/kube/ctr/sub\n"u8, "cg"), new FileBuffer())!.Directory);
    }

    [Fact]
    public void TryResolveMemory_ProcessGone_ReturnsFalse()
    {
        Assert.False(CgroupFixtures.Resolver("hybrid").TryResolveMemory(999_999, new FileBuffer(), out _));
    }

    [Fact]
    public void TryResolveMemory_ThisProcessOnThisHost_FindsAnExistingDirectory()
    {
        var resolver = new CgroupResolver(ProcFileSystem.Default);

        Assert.True(resolver.TryResolveMemory(Environment.ProcessId, new FileBuffer(), out CgroupLocation? l));
        Assert.NotNull(l);
        Assert.True(Directory.Exists(l.Directory), l.Directory);
        Assert.Contains(Environment.ProcessId, File.ReadAllLines(Path.Combine(l.Directory, "cgroup.procs")).Select(int.Parse));
    }
}
