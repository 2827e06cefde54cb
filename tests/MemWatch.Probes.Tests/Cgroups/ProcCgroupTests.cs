using System.Text;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Cgroups;

public sealed class ProcCgroupTests
{
    [Fact]
    public void Parse_HybridHostFixture_ListsEveryHierarchyAsSplitByColons()
    {
        string path = Path.Combine(CgroupFixtures.Dir("hybrid"), "proc", "self", "cgroup");
        string[] lines = File.ReadAllLines(path);

        ProcCgroup parsed = ProcCgroup.Parse(File.ReadAllBytes(path), path);

        Assert.Equal(lines.Length, parsed.Entries.Count);
        for (int i = 0; i < lines.Length; i++)
        {
            string[] parts = lines[i].Split(':', 3);
            Assert.Equal(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parsed.Entries[i].HierarchyId);
            Assert.Equal(parts[1], parsed.Entries[i].Controllers);
            Assert.Equal(parts[2], parsed.Entries[i].Path);
        }
    }

    [Fact]
    public void FindController_HybridTarget_ReturnsV1MemoryAndUnifiedEntries()
    {
        string scenario = "hybrid";
        var fs = new ProcFileSystem(Path.Combine(CgroupFixtures.Dir(scenario), "proc"));

        Assert.True(ProcCgroup.TryRead(fs, CgroupFixtures.TargetPid(scenario), new FileBuffer(), out ProcCgroup? cgroup));

        Assert.Equal("/memwatch-fixture/app", cgroup.FindController("memory")?.Path);
        Assert.Equal("/memwatch-fixture", cgroup.Unified?.Path);
        Assert.Null(cgroup.FindController("hugetlb"));
        Assert.True(cgroup.FindController("cpuacct")?.HasController("cpuacct"));
    }

    [Fact]
    public void Parse_PathWithColons_KeepsWholePath()
    {
        ProcCgroup parsed = ProcCgroup.Parse("3:cpu,cpuacct:/a:b/c::d\n"u8, "t");

        ProcCgroupEntry e = Assert.Single(parsed.Entries);
        Assert.Equal("/a:b/c::d", e.Path);
        Assert.True(e.HasController("cpu"));
        Assert.True(e.HasController("cpuacct"));
        Assert.False(e.HasController("cpuacc"));
    }

    [Fact]
    public void Parse_DeletedSuffix_StripsAndFlags()
    {
        ProcCgroup parsed = ProcCgroup.Parse("0::/system.slice/gone.service (deleted)\n"u8, "t");

        Assert.Equal(new ProcCgroupEntry(0, "", "/system.slice/gone.service", true), parsed.Unified);
    }

    [Theory]
    [InlineData("4:memory\n", 1)]
    [InlineData("x:memory:/\n", 1)]
    [InlineData("0::/\n-1::/\n", 2)]
    [InlineData("0::relative\n", 1)]
    [InlineData("0::\n", 1)]
    [InlineData("99999999999::/\n", 1)]
    public void Parse_MalformedLine_ThrowsWithLine(string text, int line)
    {
        var e = Assert.Throws<ProcParseException>(() => ProcCgroup.Parse(Encoding.UTF8.GetBytes(text), "cg"));

        Assert.Equal(line, e.Line);
        Assert.Equal("cg", e.File);
    }

    [Fact]
    public void TryRead_ProcessGone_ReturnsFalse()
    {
        var fs = new ProcFileSystem(Path.Combine(CgroupFixtures.Dir("hybrid"), "proc"));

        Assert.False(ProcCgroup.TryRead(fs, 999_999, new FileBuffer(), out ProcCgroup? value));
        Assert.Null(value);
    }
}
