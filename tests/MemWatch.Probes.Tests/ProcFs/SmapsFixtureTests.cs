using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class SmapsFixtureTests
{
    public static readonly TheoryData<int> Pids = new(SmapsFixtures.All);

    /// <summary>Kernel key names (as awk saw them) and the field each must land in.</summary>
    private static readonly Dictionary<string, SmapsField> s_kbKeys = new(StringComparer.Ordinal)
    {
        ["Size"] = SmapsField.Size,
        ["KernelPageSize"] = SmapsField.KernelPageSize,
        ["MMUPageSize"] = SmapsField.MmuPageSize,
        ["Rss"] = SmapsField.Rss,
        ["Pss"] = SmapsField.Pss,
        ["Pss_Dirty"] = SmapsField.PssDirty,
        ["Pss_Anon"] = SmapsField.PssAnon,
        ["Pss_File"] = SmapsField.PssFile,
        ["Pss_Shmem"] = SmapsField.PssShmem,
        ["Shared_Clean"] = SmapsField.SharedClean,
        ["Shared_Dirty"] = SmapsField.SharedDirty,
        ["Private_Clean"] = SmapsField.PrivateClean,
        ["Private_Dirty"] = SmapsField.PrivateDirty,
        ["Referenced"] = SmapsField.Referenced,
        ["Anonymous"] = SmapsField.Anonymous,
        ["KSM"] = SmapsField.Ksm,
        ["LazyFree"] = SmapsField.LazyFree,
        ["AnonHugePages"] = SmapsField.AnonHugePages,
        ["ShmemPmdMapped"] = SmapsField.ShmemPmdMapped,
        ["FilePmdMapped"] = SmapsField.FilePmdMapped,
        ["Shared_Hugetlb"] = SmapsField.SharedHugetlb,
        ["Private_Hugetlb"] = SmapsField.PrivateHugetlb,
        ["Swap"] = SmapsField.Swap,
        ["SwapPss"] = SmapsField.SwapPss,
        ["Locked"] = SmapsField.Locked,
    };

    private static readonly Dictionary<string, VmFlags> s_flagCodes = new(StringComparer.Ordinal)
    {
        ["rd"] = VmFlags.Readable, ["wr"] = VmFlags.Writeable, ["ex"] = VmFlags.Executable, ["sh"] = VmFlags.Shared,
        ["mr"] = VmFlags.MayRead, ["mw"] = VmFlags.MayWrite, ["me"] = VmFlags.MayExecute, ["ms"] = VmFlags.MayShare,
        ["gd"] = VmFlags.GrowsDown, ["pf"] = VmFlags.PfnMap, ["lo"] = VmFlags.Locked, ["io"] = VmFlags.Io,
        ["dc"] = VmFlags.DontCopy, ["de"] = VmFlags.DontExpand, ["ac"] = VmFlags.Accountable, ["nr"] = VmFlags.NoReserve,
        ["dd"] = VmFlags.DontDump, ["sd"] = VmFlags.SoftDirty, ["hg"] = VmFlags.HugePage, ["nh"] = VmFlags.NoHugePage,
        ["wf"] = VmFlags.WipeOnFork, ["mm"] = VmFlags.MixedMap, ["mg"] = VmFlags.Mergeable, ["sl"] = VmFlags.Sealed,
    };

    [Theory]
    [MemberData(nameof(Pids))]
    public void TryOpen_Fixture_FieldSumsMatchAwk(int pid)
    {
        IReadOnlyDictionary<string, decimal> expected = SmapsFixtures.Expected(pid);
        var sums = new decimal[Enum.GetValues<SmapsField>().Length];
        decimal thp = 0;
        decimal pkey = 0;
        int mappings = 0;
        int withPath = 0;
        var flagCounts = new Dictionary<VmFlags, int>();
        var smaps = new Smaps();
        Assert.True(smaps.TryOpen(SmapsFixtures.FileSystem, pid, out SmapsReader reader));
        foreach (SmapsEntry entry in reader)
        {
            mappings++;
            withPath += entry.Header.Path.IsEmpty ? 0 : 1;
            foreach (SmapsField f in Enum.GetValues<SmapsField>())
            {
                ulong bytes = entry.Fields[f];
                Assert.Equal(0UL, bytes % 1024);
                sums[(int)f] += bytes / 1024;
            }

            thp += entry.Fields.ThpEligible;
            pkey += entry.Fields.ProtectionKey;
            foreach (VmFlags flag in Enum.GetValues<VmFlags>())
            {
                if (flag != VmFlags.None && entry.Fields.VmFlags.HasFlag(flag))
                {
                    flagCounts[flag] = flagCounts.GetValueOrDefault(flag) + 1;
                }
            }
        }

        Assert.Equal(expected["mappings"], mappings);
        Assert.Equal(expected["withpath"], withPath);
        foreach ((string key, SmapsField field) in s_kbKeys)
        {
            Assert.True(expected.TryGetValue("sum." + key, out decimal want) || field is SmapsField.PssAnon or SmapsField.PssFile or SmapsField.PssShmem, key);
            Assert.Equal(want, sums[(int)field]);
        }

        Assert.Equal(expected["sum.THPeligible"], thp);
        Assert.Equal(expected["sum.ProtectionKey"], pkey);
        foreach ((string code, VmFlags flag) in s_flagCodes)
        {
            decimal want = expected.TryGetValue("flag." + code, out decimal n) ? n : 0;
            Assert.True(want == flagCounts.GetValueOrDefault(flag), $"flag {code}: awk {want}, parser {flagCounts.GetValueOrDefault(flag)}");
        }
    }

    [Theory]
    [MemberData(nameof(Pids))]
    public void TryOpen_SmallAndGrowingBuffers_YieldSameRecordsAsInMemoryParse(int pid)
    {
        byte[] text = SmapsFixtures.Read(pid, "smaps");
        var reference = new List<(ulong Start, ulong End, string Path, SmapsFields Fields)>();
        foreach (SmapsEntry e in Smaps.Parse(text, "smaps"))
        {
            reference.Add((e.Header.StartAddress, e.Header.EndAddress, System.Text.Encoding.UTF8.GetString(e.Header.Path), e.Fields));
        }

        foreach (int bufferBytes in new[] { 64, 1000, 4096, Smaps.DefaultBufferBytes })
        {
            var smaps = new Smaps(bufferBytes);
            Assert.True(smaps.TryOpen(SmapsFixtures.FileSystem, pid, out SmapsReader reader));
            int i = 0;
            foreach (SmapsEntry e in reader)
            {
                (ulong start, ulong end, string path, SmapsFields fields) = reference[i++];
                Assert.Equal(start, e.Header.StartAddress);
                Assert.Equal(end, e.Header.EndAddress);
                Assert.Equal(path, System.Text.Encoding.UTF8.GetString(e.Header.Path));
                Assert.Equal(fields, e.Fields);
            }

            Assert.Equal(reference.Count, i);
            Assert.True(smaps.BufferBytes >= bufferBytes);
        }
    }

    [Theory]
    [MemberData(nameof(Pids))]
    public void RollupParse_Fixture_MatchesAwk(int pid)
    {
        IReadOnlyDictionary<string, decimal> expected = SmapsFixtures.Expected(pid);
        SmapsRollup rollup = SmapsRollup.Parse(SmapsFixtures.Read(pid, "smaps_rollup"), "smaps_rollup");
        Assert.False(rollup.IsComputedFromSmaps);
        foreach ((string key, SmapsField field) in s_kbKeys)
        {
            decimal want = expected.TryGetValue("rollup." + key, out decimal n) ? n : 0;
            Assert.True(want * 1024 == rollup.Fields[field], $"{key}: awk {want} kB, parser {rollup.Fields[field]} bytes");
        }
    }

    [Theory]
    [MemberData(nameof(Pids))]
    public void RollupSum_QuiescentCapture_EqualsKernelRollup(int pid)
    {
        SmapsRollup kernel = SmapsRollup.Parse(SmapsFixtures.Read(pid, "smaps_rollup"), "smaps_rollup");
        SmapsReader reader = Smaps.Parse(SmapsFixtures.Read(pid, "smaps"), "smaps");
        SmapsRollup sum = SmapsRollup.Sum(ref reader);
        Assert.True(sum.IsComputedFromSmaps);
        Assert.Equal(kernel.StartAddress, sum.StartAddress);
        Assert.Equal(kernel.EndAddress, sum.EndAddress);
        foreach (SmapsField f in Enum.GetValues<SmapsField>())
        {
            switch (f)
            {
                case SmapsField.Size or SmapsField.KernelPageSize or SmapsField.MmuPageSize
                    or SmapsField.PssAnon or SmapsField.PssFile or SmapsField.PssShmem:
                    break;
                case SmapsField.Pss or SmapsField.PssDirty or SmapsField.SwapPss:
                    // The kernel drops the sub-kB part of Pss once per mapping in smaps, once in total in the rollup.
                    Assert.InRange(kernel.Fields[f], sum.Fields[f], sum.Fields[f] + ((ulong)sum.MappingCount!.Value * 1024));
                    break;
                default:
                    Assert.True(kernel.Fields[f] == sum.Fields[f], $"{f}: rollup {kernel.Fields[f]}, sum {sum.Fields[f]}");
                    break;
            }
        }
    }

    [Fact]
    public void RollupTryRead_NoSmapsRollupFile_SumsSmaps()
    {
        string root = Path.Combine(Path.GetTempPath(), $"memwatch-oldkernel-{Environment.ProcessId}");
        string dir = Path.Combine(root, SmapsFixtures.Glibc.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "smaps"), SmapsFixtures.Read(SmapsFixtures.Glibc, "smaps"));
            decimal awkRss = SmapsFixtures.Expected(SmapsFixtures.Glibc)["sum.Rss"];

            Assert.True(SmapsRollup.TryRead(new ProcFileSystem(root), SmapsFixtures.Glibc, new FileBuffer(), out SmapsRollup? rollup));

            Assert.True(rollup.IsComputedFromSmaps);
            Assert.Equal(awkRss * 1024, rollup.RssBytes);
            // Every mapping but the [vsyscall] gate area, which the kernel's rollup leaves out.
            Assert.Equal((int)SmapsFixtures.Expected(SmapsFixtures.Glibc)["mappings"] - 1, rollup.MappingCount);
            Assert.False(SmapsRollup.TryRead(new ProcFileSystem(root), 999_999_999, new FileBuffer(), out _));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Pids))]
    public void RollupTryRead_Fixture_UsesKernelFile(int pid)
    {
        Assert.True(SmapsRollup.TryRead(SmapsFixtures.FileSystem, pid, new FileBuffer(), out SmapsRollup? rollup));
        Assert.False(rollup.IsComputedFromSmaps);
        Assert.Equal(SmapsFixtures.Expected(pid)["rollup.Rss"] * 1024, rollup.RssBytes);
    }

    [Theory]
    [MemberData(nameof(Pids))]
    public void MapsTryRead_Fixture_MatchesPython(int pid)
    {
        IReadOnlyDictionary<string, decimal> expected = SmapsFixtures.Expected(pid);
        var buffer = new FileBuffer();
        Assert.True(ProcMaps.TryRead(SmapsFixtures.FileSystem, pid, buffer, out ProcMapsEnumerator maps));
        int lines = 0;
        decimal size = 0;
        decimal inodes = 0;
        var perms = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (MappingHeader m in maps)
        {
            lines++;
            size += m.SizeBytes;
            inodes += m.Inode;
            string p = string.Concat(
                (m.Permissions & MappingPermissions.Read) != 0 ? "r" : "-",
                (m.Permissions & MappingPermissions.Write) != 0 ? "w" : "-",
                (m.Permissions & MappingPermissions.Execute) != 0 ? "x" : "-",
                m.IsShared ? "s" : "p");
            perms[p] = perms.GetValueOrDefault(p) + 1;
        }

        Assert.Equal(expected["maps.lines"], lines);
        Assert.Equal(expected["maps.sizebytes"], size);
        Assert.Equal(expected["maps.inodes"], inodes);
        foreach ((string key, decimal want) in expected.Where(kv => kv.Key.StartsWith("maps.perm.", StringComparison.Ordinal)))
        {
            Assert.Equal(want, perms.GetValueOrDefault(key["maps.perm.".Length..]));
        }
    }

    [Theory]
    [MemberData(nameof(Pids))]
    public void MapsAndSmaps_SameCapture_HaveSameHeaders(int pid)
    {
        var maps = new List<MapsEntry>();
        foreach (MappingHeader m in ProcMaps.Parse(SmapsFixtures.Read(pid, "maps"), "maps"))
        {
            maps.Add(m.ToEntry());
        }

        int i = 0;
        foreach (SmapsEntry e in Smaps.Parse(SmapsFixtures.Read(pid, "smaps"), "smaps"))
        {
            Assert.Equal(maps[i++], e.Header.ToEntry());
        }

        Assert.Equal(maps.Count, i);
    }
}
