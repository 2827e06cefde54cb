using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Cgroups;

public sealed class CgroupMemoryTests
{
    private static CgroupMemory Read(string scenario, int pid)
    {
        var reader = new CgroupMemoryReader(CgroupFixtures.Resolver(scenario));
        Assert.True(reader.TryRead(pid, new FileBuffer(), out CgroupMemory? memory));
        return memory;
    }

    [Fact]
    public void TryRead_HybridV1UnlimitedChildOfLimitedParent_IsEffectivelyLimited()
    {
        string scenario = "hybrid";
        string app = CgroupFixtures.Host(scenario, "/sys/fs/cgroup/memory/memwatch-fixture/app");
        ulong parentLimit = CgroupFixtures.Value(CgroupFixtures.Host(scenario, "/sys/fs/cgroup/memory/memwatch-fixture/memory.limit_in_bytes"));

        CgroupMemory m = Read(scenario, CgroupFixtures.TargetPid(scenario));

        Assert.Equal(1, m.Version);
        Assert.Equal("/memwatch-fixture/app", m.Path);
        Assert.Null(m.LimitBytes);
        Assert.Equal(parentLimit, m.EffectiveLimitBytes);
        Assert.Equal(CgroupFixtures.Value(app + "/memory.usage_in_bytes"), m.UsageBytes);
        Assert.True(m.UsageBytes >= 64UL << 20);
        Assert.Equal(CgroupFixtures.Value(app + "/memory.max_usage_in_bytes"), m.PeakBytes);
        Assert.Null(m.MemorySwapLimitBytes);
        Assert.Equal(CgroupFixtures.Keyed(app + "/memory.stat")["total_swap"], m.SwapUsageBytes);
        Assert.Equal(0UL, m.OomKills);
        Assert.Null(m.HighBytes);
        Assert.Equal(CgroupFixtures.Keyed(app + "/memory.stat")["total_rss"], m.Stat!.AnonBytes);
    }

    [Fact]
    public void TryRead_HybridV1_TakesPressureFromTheUnifiedCgroup()
    {
        string scenario = "hybrid";
        string psi = CgroupFixtures.Host(scenario, "/sys/fs/cgroup/unified/memwatch-fixture/memory.pressure");

        CgroupMemory m = Read(scenario, CgroupFixtures.TargetPid(scenario));

        Assert.Equal(PressureStall.Parse(File.ReadAllBytes(psi), psi), m.Pressure);
        Assert.EndsWith(" total=" + m.Pressure!.Some.TotalMicroseconds, File.ReadAllLines(psi)[0]);
    }

    [Fact]
    public void TryRead_V1AfterRealOomKill_ReportsTheKill()
    {
        string dir = Path.Combine(CgroupFixtures.Root, "v1-after-oom");
        var location = new CgroupLocation(1, "/memwatch-fixture/app", dir, dir, null);

        Assert.True(CgroupMemory.TryRead(location, new FileBuffer(), out CgroupMemory? m));

        Assert.Equal(CgroupFixtures.Keyed(dir + "/memory.oom_control")["oom_kill"], m.OomKills);
        Assert.Equal(1UL, m.OomKills);
        Assert.Equal(CgroupFixtures.Value(dir + "/memory.max_usage_in_bytes"), m.PeakBytes);
        Assert.True(m.PeakBytes >= 250UL << 20, "the workload grew to the 256 MiB parent limit before the kill");
        Assert.Equal(256UL << 20, m.EffectiveLimitBytes);
        Assert.Null(m.Pressure);
    }

    [Fact]
    public void TryRead_V1ContainerBind_EffectiveLimitFromInvisibleParent()
    {
        // The pod cgroup (512 MiB) is above the bind mount; only the kernel's hierarchical_memory_limit reveals it.
        string scenario = "container-bind";
        string stat = CgroupFixtures.Host(scenario, "/sys/fs/cgroup/memory/memory.stat");

        CgroupMemory m = Read(scenario, CgroupFixtures.TargetPid(scenario));

        Assert.Null(m.LimitBytes);
        Assert.Equal(CgroupFixtures.Keyed(stat)["hierarchical_memory_limit"], m.EffectiveLimitBytes);
        Assert.Equal(512UL << 20, m.EffectiveLimitBytes);
        Assert.True(m.UsageBytes >= 32UL << 20);
    }

    [Fact]
    public void TryRead_V2Service_ReadsEveryFileAndTheParentLimit()
    {
        string scenario = "v2-composed";
        string dir = CgroupFixtures.Host(scenario, "/sys/fs/cgroup/system.slice/memwatch-demo.service");
        Dictionary<string, ulong> stat = CgroupFixtures.Keyed(dir + "/memory.stat");

        CgroupMemory m = Read(scenario, 4321);

        Assert.Equal(2, m.Version);
        Assert.Null(m.LimitBytes);
        Assert.Equal(CgroupFixtures.Value(CgroupFixtures.Host(scenario, "/sys/fs/cgroup/system.slice/memory.max")), m.EffectiveLimitBytes);
        Assert.Equal(CgroupFixtures.Value(dir + "/memory.current"), m.UsageBytes);
        Assert.Equal(stat["anon"] + stat["file"] + stat["kernel"] + stat["sock"], m.UsageBytes);
        Assert.Equal(CgroupFixtures.Value(dir + "/memory.peak"), m.PeakBytes);
        Assert.Equal(CgroupFixtures.Value(dir + "/memory.high"), m.HighBytes);
        Assert.Equal(CgroupFixtures.Value(dir + "/memory.low"), m.LowBytes);
        Assert.Equal(0UL, m.MinBytes);
        Assert.Null(m.SwapLimitBytes);
        Assert.Equal(0UL, m.SwapUsageBytes);
        Assert.Equal(CgroupFixtures.Keyed(dir + "/memory.events")["oom_kill"], m.OomKills);
        Assert.Equal(m.UsageBytes - stat["inactive_file"], m.WorkingSetBytes);
        Assert.Equal(PressureStall.Parse(File.ReadAllBytes(dir + "/memory.pressure"), "p"), m.Pressure);
    }

    [Fact]
    public void TryRead_V2CgroupNamespaceRoot_ReadsLimitAtMountPoint()
    {
        string scenario = "v2-container-composed";

        CgroupMemory m = Read(scenario, 7);

        Assert.Equal(CgroupFixtures.Value(CgroupFixtures.Host(scenario, "/sys/fs/cgroup/memory.max")), m.LimitBytes);
        Assert.Equal(m.LimitBytes, m.EffectiveLimitBytes);
        Assert.Null(m.PeakBytes);
        Assert.Null(m.Pressure);
    }

    [Fact]
    public void TryRead_RemovedCgroup_ReturnsFalse()
    {
        var reader = new CgroupMemoryReader(CgroupFixtures.Resolver("v2-composed"));

        Assert.False(reader.TryRead(4400, new FileBuffer(), out CgroupMemory? m));
        Assert.Null(m);
    }

    [Fact]
    public void TryRead_ThisProcessOnThisHost_UsageWithinLimitAndProcessListed()
    {
        var reader = new CgroupMemoryReader();

        Assert.True(reader.TryRead(Environment.ProcessId, new FileBuffer(), out CgroupMemory? m));

        Assert.True(m.UsageBytes > 0);
        Assert.True(m.EffectiveLimitBytes is null || m.EffectiveLimitBytes >= m.UsageBytes);
        Assert.True(CgroupProcs.TryRead(m.Directory, new FileBuffer(), out CgroupProcs? procs));
        Assert.Contains(Environment.ProcessId, procs.Pids);
    }
}
