using System.Text;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Cgroups;

public sealed class MountInfoTests
{
    [Theory]
    [InlineData("hybrid")]
    [InlineData("container-bind")]
    [InlineData("container-cgns")]
    public void Parse_CapturedFixture_MatchesFieldsSplitIndependently(string scenario)
    {
        string path = Path.Combine(CgroupFixtures.Dir(scenario), "proc", "self", "mountinfo");
        string[] lines = File.ReadAllLines(path);

        MountInfo parsed = MountInfo.Parse(File.ReadAllBytes(path), path);

        Assert.Equal(lines.Length, parsed.Entries.Count);
        for (int i = 0; i < lines.Length; i++)
        {
            string[] halves = lines[i].Split(" - ");
            string[] pre = halves[0].Split(' ');
            string[] post = halves[1].Split(' ');
            MountInfoEntry e = parsed.Entries[i];
            Assert.Equal(pre[0], e.MountId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(pre[1], e.ParentId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(pre[2], $"{e.Major}:{e.Minor}");
            Assert.Equal(pre[3], e.Root);
            Assert.Equal(pre[4], e.MountPoint);
            Assert.Equal(pre[5], e.MountOptions);
            Assert.Equal(string.Join(' ', pre[6..]), e.OptionalFields);
            Assert.Equal(post[0], e.FsType);
            Assert.Equal(post[1], e.Source);
            Assert.Equal(post[2], e.SuperOptions);
        }
    }

    [Fact]
    public void Parse_HybridHost_HasMemoryV1AndCgroup2Mounts()
    {
        MountInfo parsed = MountInfo.Parse(CgroupFixtures.Bytes("hybrid/proc/self/mountinfo"), "mountinfo");

        MountInfoEntry memory = Assert.Single(parsed.Entries, e => e.FsType == "cgroup" && e.HasSuperOption("memory"));
        MountInfoEntry unified = Assert.Single(parsed.Entries, e => e.FsType == "cgroup2");
        Assert.Equal("/sys/fs/cgroup/memory", memory.MountPoint);
        Assert.Equal("/sys/fs/cgroup/unified", unified.MountPoint);
        Assert.False(memory.HasSuperOption("memor"));
    }

    [Fact]
    public void Parse_EscapedPathsAndEmptySource_UnescapesAndTakesSuperOptions()
    {
        MountInfo parsed = MountInfo.Parse(CgroupFixtures.Bytes("v2-composed/proc/self/mountinfo"), "mountinfo");

        MountInfoEntry tmpfs = parsed.Entries[^1];
        Assert.Equal("/mnt/with space", tmpfs.MountPoint);
        Assert.Equal("tmpfs", tmpfs.FsType);
        Assert.Equal("", tmpfs.Source);
        Assert.Equal("rw,size=65536k", tmpfs.SuperOptions);
        Assert.Equal("shared:5", tmpfs.OptionalFields);
    }

    [Theory]
    [InlineData(@"a\011b\012c\134d\040", "a\tb\nc\\d ")]
    [InlineData(@"no\escape\0", @"no\escape\0")]
    [InlineData(@"\777x", @"\777x")]
    [InlineData(@"\12", @"\12")]
    public void Unescape_OctalSequences_DecodesOnlyValidOnes(string raw, string expected)
    {
        Assert.Equal(expected, MountInfo.Unescape(Encoding.UTF8.GetBytes(raw)));
    }

    [Theory]
    [InlineData("22 27 0:21 / /proc rw,relatime proc proc rw\n")]
    [InlineData("22 27 0:21 / /proc\n")]
    [InlineData("x 27 0:21 / /proc rw - proc proc rw\n")]
    [InlineData("22 27 021 / /proc rw - proc proc rw\n")]
    [InlineData("22 27 0:21 / /proc rw -\n")]
    [InlineData("22 27 0:21 / /proc rw - proc proc rw extra\n")]
    public void Parse_MalformedLine_Throws(string text)
    {
        var e = Assert.Throws<ProcParseException>(() => MountInfo.Parse(Encoding.UTF8.GetBytes(text), "mi"));

        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void TryReadSelf_ThisProcess_ParsesEveryLine()
    {
        Assert.True(MountInfo.TryReadSelf(ProcFileSystem.Default, new FileBuffer(), out MountInfo? mounts));

        Assert.Equal(File.ReadAllLines("/proc/self/mountinfo").Length, mounts.Entries.Count);
        Assert.Contains(mounts.Entries, e => e.MountPoint == "/");
    }
}
