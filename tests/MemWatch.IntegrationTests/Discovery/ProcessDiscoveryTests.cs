using System.Text.RegularExpressions;
using MemWatch.Probes.Discovery;
using MemWatch.Probes.ProcFs;

namespace MemWatch.IntegrationTests.Discovery;

/// <summary>ProcessDiscovery over the real /proc with real workloads.</summary>
public sealed class ProcessDiscoveryTests
{
    private const ulong MiB = 1024 * 1024;

    [Fact]
    public void Discover_ByCgroupPrefixAndMinRss_FindsExactlyTheWorkloadAboveTheThreshold()
    {
        using var cgroup = new TemporaryMemoryCgroup(512 * MiB);
        using Workload big = Workload.Start("cgroup_alloc.c");
        using Workload small = Workload.Start("cgroup_alloc.c");
        cgroup.Add(big.Pid);
        cgroup.Add(small.Pid);
        big.Send("alloc 40");

        var discovery = new ProcessDiscovery(ProcFileSystem.Default);
        List<DiscoveredProcess> inCgroup = discovery.Discover(new ProcessSelector { CgroupPrefix = cgroup.CgroupPath });
        List<DiscoveredProcess> large = discovery.Discover(new ProcessSelector { CgroupPrefix = cgroup.CgroupPath, MinRssBytes = 30 * MiB });

        Assert.Equal(new[] { small.Pid, big.Pid }.Order(), inCgroup.Select(p => p.Pid).Order());
        Assert.All(inCgroup, p => Assert.Equal(cgroup.CgroupPath, p.CgroupPath));
        DiscoveredProcess only = Assert.Single(large);
        Assert.Equal(big.Pid, only.Pid);
        Assert.True(only.RssBytes >= 40 * MiB);
    }

    [Fact]
    public void Discover_ByCommAndCommandLineRegexAndUid()
    {
        using Workload w = Workload.Start("cgroup_alloc.c");
        var discovery = new ProcessDiscovery(ProcFileSystem.Default);

        List<DiscoveredProcess> byComm = discovery.Discover(new ProcessSelector { Comm = new Regex("^cgroup_alloc$") });
        List<DiscoveredProcess> byCmdline = discovery.Discover(new ProcessSelector { CommandLine = new Regex("memwatch-workloads/.*/cgroup_alloc") });
        List<DiscoveredProcess> rootOwned = discovery.Discover(new ProcessSelector { Pids = new HashSet<int> { w.Pid }, Uid = 0 });
        List<DiscoveredProcess> nobodyOwned = discovery.Discover(new ProcessSelector { Pids = new HashSet<int> { w.Pid }, Uid = 65534 });

        Assert.Contains(byComm, p => p.Pid == w.Pid && p.Comm == "cgroup_alloc");
        Assert.Contains(byCmdline, p => p.Pid == w.Pid);
        Assert.Equal(w.Pid, Assert.Single(rootOwned).Pid);
        Assert.Empty(nobodyOwned);
    }

    [Fact]
    public void Discover_SkipsKernelThreadsAndVanishedPids()
    {
        int gone;
        using (Workload w = Workload.Start("cgroup_alloc.c"))
        {
            gone = w.Pid;
        }

        var discovery = new ProcessDiscovery(ProcFileSystem.Default);
        List<DiscoveredProcess> all = discovery.Discover(new ProcessSelector());
        List<DiscoveredProcess> explicitPids = discovery.Discover(new ProcessSelector { Pids = new HashSet<int> { 2, gone } });

        Assert.DoesNotContain(all, p => p.Pid == 2);
        Assert.Contains(all, p => p.Pid == Environment.ProcessId);
        Assert.Empty(explicitPids);
    }
}
