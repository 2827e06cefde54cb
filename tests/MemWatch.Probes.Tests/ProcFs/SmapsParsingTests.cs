using System.Text;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class SmapsParsingTests
{
    private const string Record =
        "7f63f0000000-7f63f07f0000 rw-p 00000000 00:00 0 \n" +
        "Size:               8128 kB\n" +
        "KernelPageSize:        4 kB\n" +
        "Rss:                1024 kB\n" +
        "Pss:                 512 kB\n" +
        "Private_Dirty:        12 kB\n" +
        "Swap:                  3 kB\n" +
        "THPeligible:           1\n" +
        "ProtectionKey:         2\n" +
        "VmFlags: rd wr mr mw me nr \n";

    private static List<(MapsEntry Header, SmapsFields Fields)> ParseAll(string text)
    {
        var result = new List<(MapsEntry, SmapsFields)>();
        foreach (SmapsEntry e in Smaps.Parse(Encoding.UTF8.GetBytes(text), "smaps"))
        {
            result.Add((e.Header.ToEntry(), e.Fields));
        }

        return result;
    }

    [Fact]
    public void Parse_RecordWithSomeKeys_ConvertsKbToBytesAndMissingKeysAreZero()
    {
        (MapsEntry h, SmapsFields f) = Assert.Single(ParseAll(Record));

        Assert.Equal(0x7f63f0000000UL, h.StartAddress);
        Assert.Equal(0x7f63f07f0000UL, h.EndAddress);
        Assert.Equal(MappingPermissions.Read | MappingPermissions.Write, h.Permissions);
        Assert.Equal("", h.Path);
        Assert.Equal(8128UL * 1024, f.SizeBytes);
        Assert.Equal(4096UL, f.KernelPageSizeBytes);
        Assert.Equal(1024UL * 1024, f.RssBytes);
        Assert.Equal(512UL * 1024, f.PssBytes);
        Assert.Equal(12UL * 1024, f.PrivateDirtyBytes);
        Assert.Equal(3UL * 1024, f.SwapBytes);
        Assert.Equal(0UL, f.MmuPageSizeBytes);
        Assert.Equal(0UL, f.SharedCleanBytes);
        Assert.Equal(1, f.ThpEligible);
        Assert.Equal(2, f.ProtectionKey);
        Assert.Equal(
            VmFlags.Readable | VmFlags.Writeable | VmFlags.MayRead | VmFlags.MayWrite | VmFlags.MayExecute | VmFlags.NoReserve,
            f.VmFlags);
    }

    [Fact]
    public void Parse_UnknownKeysAnywhere_AreIgnored()
    {
        string text = Record.Replace("Rss:", "Future_Key:   77 MB\nRss:", StringComparison.Ordinal)
            .Replace("VmFlags:", "Another:  x y z\nVmFlags:", StringComparison.Ordinal)
            + "TrailingKey: 5 kB\n" + Record;

        List<(MapsEntry Header, SmapsFields Fields)> records = ParseAll(text);

        Assert.Equal(2, records.Count);
        Assert.Equal(records[1].Fields, records[0].Fields);
        Assert.Equal(1024UL * 1024, records[0].Fields.RssBytes);
    }

    [Fact]
    public void Parse_VmFlagsWithUnknownCodes_KeepsKnownOnes()
    {
        string text = Record.Replace("VmFlags: rd wr mr mw me nr ", "VmFlags: rd zz q9 wr xyz ss sl gu", StringComparison.Ordinal);

        (_, SmapsFields f) = Assert.Single(ParseAll(text));

        Assert.Equal(VmFlags.Readable | VmFlags.Writeable | VmFlags.ShadowStack | VmFlags.Sealed | VmFlags.MaybeGuard, f.VmFlags);
    }

    [Theory]
    [InlineData("7f0000000000-7f0000001000 r--p 00000000 fe:00 247629                     /usr/bin/head", "/usr/bin/head", 0xfeu, 0u, 247629UL)]
    [InlineData("7f0000000000-7f0000001000 r--p 00001000 103:02 12 /path with  spaces (deleted)", "/path with  spaces (deleted)", 0x103u, 2u, 12UL)]
    [InlineData("7f0000000000-7f0000001000 rw-s 00000000 00:01 5                   /memfd:doublemapper (deleted)", "/memfd:doublemapper (deleted)", 0u, 1u, 5UL)]
    [InlineData("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]", "[vsyscall]", 0u, 0u, 0UL)]
    [InlineData("7f0000000000-7f0000001000 ---p 00000000 00:00 0", "", 0u, 0u, 0UL)]
    public void MapsParse_RealLineShapes_SplitsColumns(string line, string path, uint major, uint minor, ulong inode)
    {
        ProcMapsEnumerator maps = ProcMaps.Parse(Encoding.UTF8.GetBytes(line + "\n"), "maps");
        Assert.True(maps.MoveNext());
        MapsEntry e = maps.Current.ToEntry();
        Assert.False(maps.MoveNext());

        Assert.Equal(path, e.Path);
        Assert.Equal(major, e.DeviceMajor);
        Assert.Equal(minor, e.DeviceMinor);
        Assert.Equal(inode, e.Inode);
        Assert.Equal(0x1000UL, e.SizeBytes);
    }

    [Fact]
    public void MapsParse_SharedMapping_SetsSharedFlag()
    {
        ProcMapsEnumerator maps = ProcMaps.Parse("7f0000000000-7f0000001000 rw-s 00000000 00:01 5 /dev/shm/x\n"u8, "maps");
        Assert.True(maps.MoveNext());
        Assert.True(maps.Current.IsShared);
        Assert.False(maps.Current.IsAnonymous);
    }

    [Theory]
    [InlineData("Rss:   18446744073709551615 kB")]
    [InlineData("Rss:   99999999999999999999999 kB")]
    [InlineData("Rss:   12 MB")]
    [InlineData("Rss:   12kB x")]
    [InlineData("Rss:   kB")]
    [InlineData("Rss:   -5 kB")]
    [InlineData("THPeligible:    yes")]
    [InlineData(":   5 kB")]
    [InlineData("no colon here")]
    [InlineData("")]
    public void Parse_MalformedFieldLine_ThrowsProcParseExceptionWithLine(string bad)
    {
        string text = "7f0000000000-7f0000001000 r--p 00000000 00:00 0\nSize:   4 kB\n" + bad + "\nSwap: 0 kB\n";

        ProcParseException e = Assert.Throws<ProcParseException>(() => ParseAll(text));

        Assert.Equal(3, e.Line);
        Assert.Equal("smaps", e.File);
    }

    [Fact]
    public void Parse_FieldBeforeAnyHeader_Throws()
    {
        Assert.Throws<ProcParseException>(() => ParseAll("Size:   4 kB\n"));
    }

    [Fact]
    public void Parse_EmptyText_YieldsNothing()
    {
        Assert.Empty(ParseAll(""));
    }

    [Fact]
    public void RollupParse_TwoHeaders_Throws()
    {
        byte[] text = Encoding.UTF8.GetBytes("00400000-7fff0000 ---p 00000000 00:00 0 [rollup]\nRss: 4 kB\n" + Record);

        Assert.Throws<ProcParseException>(() => SmapsRollup.Parse(text, "smaps_rollup"));
    }

    [Theory]
    [InlineData("running\n", true, -1L, 0UL)]
    [InlineData("0 0x25 0x7fb7bac01180 0x1000 0x7fc40b1be950 0x0 0x7fc374000000 0x7ffda0ac3fa0 0x7fc40b4362ec\n", false, 0L, 0x7ffda0ac3fa0UL)]
    [InlineData("-1 0x7ffd11223340 0x7f0012345678\n", false, -1L, 0x7ffd11223340UL)]
    public void TaskSyscallParse_KernelFormats_GivesStackPointer(string text, bool running, long nr, ulong sp)
    {
        ProcTaskSyscall s = ProcTaskSyscall.Parse(Encoding.UTF8.GetBytes(text), "syscall");

        Assert.Equal(running, s.Running);
        Assert.Equal(nr, s.SyscallNumber);
        Assert.Equal(sp, s.StackPointer);
    }

    [Theory]
    [InlineData("")]
    [InlineData("202 0x1 0x2")]
    [InlineData("abc")]
    [InlineData("-1 7ffd 0x1")]
    public void TaskSyscallParse_Malformed_Throws(string text)
    {
        Assert.Throws<ProcParseException>(() => ProcTaskSyscall.Parse(Encoding.UTF8.GetBytes(text), "syscall"));
    }
}
