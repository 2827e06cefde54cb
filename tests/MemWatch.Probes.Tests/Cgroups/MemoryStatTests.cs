using System.Text;
using MemWatch.Probes.Cgroups;

namespace MemWatch.Probes.Tests.Cgroups;

public sealed class MemoryStatTests
{
    private const string V1App = "hybrid/root/sys/fs/cgroup/memory/memwatch-fixture/app/memory.stat";
    private const string V2Service = "v2-composed/root/sys/fs/cgroup/system.slice/memwatch-demo.service/memory.stat";

    [Theory]
    [InlineData(V1App)]
    [InlineData("v1-after-oom/memory.stat")]
    [InlineData("container-bind/root/sys/fs/cgroup/memory/memory.stat")]
    public void Parse_V1Fixture_UsesHierarchicalTotals(string relative)
    {
        string path = Path.Combine(CgroupFixtures.Root, relative);
        Dictionary<string, ulong> k = CgroupFixtures.Keyed(path);

        MemoryStat s = MemoryStat.Parse(File.ReadAllBytes(path), path);

        Assert.Equal(k["total_rss"], s.AnonBytes);
        Assert.Equal(k["total_cache"], s.FileBytes);
        Assert.Equal(k["total_shmem"], s.ShmemBytes);
        Assert.Equal(k["total_mapped_file"], s.FileMappedBytes);
        Assert.Equal(k["total_dirty"], s.FileDirtyBytes);
        Assert.Equal(k["total_writeback"], s.FileWritebackBytes);
        Assert.Equal(k["total_rss_huge"], s.AnonThpBytes);
        Assert.Equal(k["total_swap"], s.SwapBytes);
        Assert.Equal(k["total_inactive_anon"], s.InactiveAnonBytes);
        Assert.Equal(k["total_active_anon"], s.ActiveAnonBytes);
        Assert.Equal(k["total_inactive_file"], s.InactiveFileBytes);
        Assert.Equal(k["total_active_file"], s.ActiveFileBytes);
        Assert.Equal(k["total_unevictable"], s.UnevictableBytes);
        Assert.Equal(k["total_pgfault"], s.PageFaults);
        Assert.Equal(k["total_pgmajfault"], s.MajorPageFaults);
        Assert.Null(s.KernelBytes);
        Assert.Null(s.SockBytes);
    }

    [Fact]
    public void Parse_V1WorkloadCgroup_AnonCoversTheTouchedMemory()
    {
        // The workload touched 64 MiB of malloc'd memory; its own status file reports RssAnon.
        string scenario = "hybrid";
        string status = File.ReadAllText(Path.Combine(CgroupFixtures.Dir(scenario), "proc", CgroupFixtures.TargetPid(scenario).ToString(System.Globalization.CultureInfo.InvariantCulture), "status-excerpt"));
        ulong rssAnonKb = ulong.Parse(status.Split('\n').First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

        MemoryStat s = MemoryStat.Parse(CgroupFixtures.Bytes(V1App), V1App);

        Assert.True(s.AnonBytes >= 64UL << 20);
        Assert.InRange(s.AnonBytes!.Value, rssAnonKb * 1024 * 0.95, rssAnonKb * 1024 * 1.05);
    }

    [Fact]
    public void Parse_V1Fixture_HierarchicalLimitIsTheParentLimit()
    {
        ulong parentLimit = CgroupFixtures.Value(Path.Combine(CgroupFixtures.Root, "hybrid/root/sys/fs/cgroup/memory/memwatch-fixture/memory.limit_in_bytes"));

        MemoryStat app = MemoryStat.Parse(CgroupFixtures.Bytes(V1App), V1App);
        MemoryStat hostRoot = MemoryStat.Parse(CgroupFixtures.Bytes("hybrid/root/sys/fs/cgroup/memory/memory.stat"), "root");

        Assert.Equal(256UL << 20, parentLimit);
        Assert.Equal(parentLimit, app.HierarchicalLimitBytes);
        Assert.Null(hostRoot.HierarchicalLimitBytes);
    }

    [Fact]
    public void Parse_V2Fixture_MapsV2Names()
    {
        string path = Path.Combine(CgroupFixtures.Root, V2Service);
        Dictionary<string, ulong> k = CgroupFixtures.Keyed(path);

        MemoryStat s = MemoryStat.Parse(File.ReadAllBytes(path), path);

        Assert.Equal(k["anon"], s.AnonBytes);
        Assert.Equal(k["file"], s.FileBytes);
        Assert.Equal(k["kernel"], s.KernelBytes);
        Assert.Equal(k["kernel_stack"], s.KernelStackBytes);
        Assert.Equal(k["pagetables"], s.PageTablesBytes);
        Assert.Equal(k["sock"], s.SockBytes);
        Assert.Equal(k["shmem"], s.ShmemBytes);
        Assert.Equal(k["file_mapped"], s.FileMappedBytes);
        Assert.Equal(k["file_dirty"], s.FileDirtyBytes);
        Assert.Equal(k["anon_thp"], s.AnonThpBytes);
        Assert.Equal(k["swapcached"], s.SwapCachedBytes);
        Assert.Equal(k["slab_reclaimable"], s.SlabReclaimableBytes);
        Assert.Equal(k["slab_unreclaimable"], s.SlabUnreclaimableBytes);
        Assert.Equal(k["inactive_file"], s.InactiveFileBytes);
        Assert.Equal(k["pgmajfault"], s.MajorPageFaults);
        Assert.Null(s.SwapBytes);
        Assert.Null(s.HierarchicalLimitBytes);
    }

    [Fact]
    public void Parse_V1LocalOnly_UsesLocalValues()
    {
        MemoryStat s = MemoryStat.Parse("rss 4096\ncache 8192\nmapped_file 12288\n"u8, "t");

        Assert.Equal(4096UL, s.AnonBytes);
        Assert.Equal(8192UL, s.FileBytes);
        Assert.Equal(12288UL, s.FileMappedBytes);
        Assert.Null(s.ShmemBytes);
    }

    [Fact]
    public void Parse_EmptyAndUnknownKeys_AllNull()
    {
        MemoryStat s = MemoryStat.Parse("zswap 1\nfuture_counter 2\n\n"u8, "t");

        Assert.Equal(new MemoryStat(), s);
    }

    [Theory]
    [InlineData("anon\n")]
    [InlineData("anon 1 2\n")]
    [InlineData("anon -1\n")]
    [InlineData("anon 1.5\n")]
    [InlineData("anon 99999999999999999999999\n")]
    public void Parse_Malformed_Throws(string text)
    {
        var e = Assert.Throws<ProcParseException>(() => MemoryStat.Parse(Encoding.UTF8.GetBytes(text), "memory.stat"));

        Assert.Equal(1, e.Line);
    }
}
