using System.Text;
using MemWatch.Probes.Cgroups;

namespace MemWatch.Probes.Tests.Cgroups;

public sealed class CgroupSmallFileTests
{
    [Fact]
    public void ParseOomControl_AfterRealOomKill_CountsOneKill()
    {
        string path = Path.Combine(CgroupFixtures.Root, "v1-after-oom", "memory.oom_control");
        Dictionary<string, ulong> k = CgroupFixtures.Keyed(path);

        CgroupMemoryEvents e = CgroupMemoryEvents.ParseOomControl(File.ReadAllBytes(path), path);

        Assert.Equal(1UL, k["oom_kill"]);
        Assert.Equal(k["oom_kill"], e.OomKills);
        Assert.False(e.UnderOom);
        Assert.False(e.OomKillDisabled);
        Assert.Null(e.MaxEvents);
    }

    [Fact]
    public void ParseOomControl_BeforeOom_CountsNone()
    {
        CgroupMemoryEvents e = CgroupMemoryEvents.ParseOomControl(
            CgroupFixtures.Bytes("hybrid/root/sys/fs/cgroup/memory/memwatch-fixture/app/memory.oom_control"), "oc");

        Assert.Equal(0UL, e.OomKills);
    }

    [Fact]
    public void ParseEvents_V2Fixture_MapsEveryCounter()
    {
        string path = Path.Combine(CgroupFixtures.Root, "v2-composed/root/sys/fs/cgroup/system.slice/memwatch-demo.service/memory.events");
        Dictionary<string, ulong> k = CgroupFixtures.Keyed(path);

        CgroupMemoryEvents e = CgroupMemoryEvents.ParseEvents(File.ReadAllBytes(path), path);

        Assert.Equal(new CgroupMemoryEvents(k["oom_kill"], k["oom"], k["max"], k["high"], k["low"], k["oom_group_kill"], null, null), e);
    }

    [Fact]
    public void ParseEvents_OlderKernelWithoutGroupKill_LeavesItNull()
    {
        CgroupMemoryEvents e = CgroupMemoryEvents.ParseEvents("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"u8, "t");

        Assert.Null(e.OomGroupKills);
        Assert.Equal(1UL, e.OomKills);
    }

    [Theory]
    [InlineData("max\n", null)]
    [InlineData("max", null)]
    [InlineData("268435456\n", 268435456UL)]
    [InlineData("9223372036854771712\n", null)]
    [InlineData("9223372036854710272\n", null)]
    [InlineData("0\n", 0UL)]
    public void ParseLimit_Values_MapUnlimitedToNull(string text, ulong? expected)
    {
        Assert.Equal(expected, CgroupValueFile.ParseLimit(Encoding.UTF8.GetBytes(text), "t"));
    }

    [Fact]
    public void ParseLimit_HostUnlimitedFixture_IsNull()
    {
        Assert.Null(CgroupValueFile.ParseLimit(CgroupFixtures.Bytes("hybrid/root/sys/fs/cgroup/memory/memory.limit_in_bytes"), "l"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("12\n13\n")]
    [InlineData("maximum\n")]
    [InlineData("-5\n")]
    public void ParseLimit_Malformed_Throws(string text)
    {
        Assert.Throws<ProcParseException>(() => CgroupValueFile.ParseLimit(Encoding.UTF8.GetBytes(text), "t"));
    }

    [Theory]
    [InlineData("hybrid/root/sys/fs/cgroup/memory/memwatch-fixture/app/cgroup.procs")]
    [InlineData("container-cgns/root/sys/fs/cgroup/memory/cgroup.procs")]
    [InlineData("v2-composed/root/sys/fs/cgroup/system.slice/memwatch-demo.service/cgroup.procs")]
    public void CgroupProcsParse_Fixture_ListsEveryLine(string relative)
    {
        string path = Path.Combine(CgroupFixtures.Root, relative);
        int[] expected = File.ReadAllLines(path).Select(l => int.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        CgroupProcs procs = CgroupProcs.Parse(File.ReadAllBytes(path), path);

        Assert.Equal(expected, procs.Pids);
        Assert.NotEmpty(procs.Pids);
    }

    [Fact]
    public void CgroupProcsParse_HybridApp_ContainsTheWorkload()
    {
        CgroupProcs procs = CgroupProcs.Parse(CgroupFixtures.Bytes("hybrid/root/sys/fs/cgroup/memory/memwatch-fixture/app/cgroup.procs"), "p");

        Assert.Equal([CgroupFixtures.TargetPid("hybrid")], procs.Pids);
    }

    [Theory]
    [InlineData("12\nabc\n")]
    [InlineData("0\n")]
    [InlineData("-3\n")]
    [InlineData("4294967296\n")]
    public void CgroupProcsParse_Malformed_Throws(string text)
    {
        Assert.Throws<ProcParseException>(() => CgroupProcs.Parse(Encoding.UTF8.GetBytes(text), "procs"));
    }

    [Fact]
    public void CgroupProcsTryRead_MissingDirectory_ReturnsFalse()
    {
        Assert.False(CgroupProcs.TryRead(Path.Combine(CgroupFixtures.Root, "no-such-cgroup"), new MemWatch.Probes.ProcFs.FileBuffer(), out _));
    }
}
