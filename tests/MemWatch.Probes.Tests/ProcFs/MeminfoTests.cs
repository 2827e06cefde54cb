using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class MeminfoTests
{
    [Fact]
    public void TryRead_CapturedMeminfo_MatchesAwkExtraction()
    {
        var e = ProcFixtures.ExpectedMeminfo();
        Assert.True(Meminfo.TryRead(ProcFixtures.Fs, new FileBuffer(), out Meminfo? m));

        Assert.Equal(e.U64("meminfo.MemTotal"), m.MemTotalBytes);
        Assert.Equal(e.U64("meminfo.MemFree"), m.MemFreeBytes);
        Assert.Equal(e.U64("meminfo.MemAvailable"), m.MemAvailableBytes);
        Assert.Equal(e.U64("meminfo.Buffers"), m.BuffersBytes);
        Assert.Equal(e.U64("meminfo.Cached"), m.CachedBytes);
        Assert.Equal(e.U64("meminfo.SwapCached"), m.SwapCachedBytes);
        Assert.Equal(e.U64("meminfo.Active"), m.ActiveBytes);
        Assert.Equal(e.U64("meminfo.Inactive"), m.InactiveBytes);
        Assert.Equal(e.U64("meminfo.Active(anon)"), m.ActiveAnonBytes);
        Assert.Equal(e.U64("meminfo.Inactive(anon)"), m.InactiveAnonBytes);
        Assert.Equal(e.U64("meminfo.Active(file)"), m.ActiveFileBytes);
        Assert.Equal(e.U64("meminfo.Inactive(file)"), m.InactiveFileBytes);
        Assert.Equal(e.U64("meminfo.SwapTotal"), m.SwapTotalBytes);
        Assert.Equal(e.U64("meminfo.SwapFree"), m.SwapFreeBytes);
        Assert.Equal(e.U64("meminfo.Dirty"), m.DirtyBytes);
        Assert.Equal(e.U64("meminfo.AnonPages"), m.AnonPagesBytes);
        Assert.Equal(e.U64("meminfo.Mapped"), m.MappedBytes);
        Assert.Equal(e.U64("meminfo.Shmem"), m.ShmemBytes);
        Assert.Equal(e.U64("meminfo.Slab"), m.SlabBytes);
        Assert.Equal(e.U64("meminfo.SReclaimable"), m.SReclaimableBytes);
        Assert.Equal(e.U64("meminfo.CommitLimit"), m.CommitLimitBytes);
        Assert.Equal(e.U64("meminfo.Committed_AS"), m.CommittedAsBytes);
        Assert.Equal(e.Has("meminfo.AnonHugePages") ? e.U64("meminfo.AnonHugePages") : null, m.AnonHugePagesBytes);
    }

    [Fact]
    public void TryRead_CapturedMeminfo_LruListsAddUp()
    {
        // meminfo_proc_show prints Active and Inactive as sums of the same per-LRU page counts.
        Assert.True(Meminfo.TryRead(ProcFixtures.Fs, new FileBuffer(), out Meminfo? m));
        Assert.Equal(m.ActiveBytes, m.ActiveAnonBytes + m.ActiveFileBytes);
        Assert.Equal(m.InactiveBytes, m.InactiveAnonBytes + m.InactiveFileBytes);
    }

    [Fact]
    public void Parse_OnlyRequiredAndUnknownKeys_OptionalFieldsNull()
    {
        Meminfo m = Meminfo.Parse("MemTotal: 10 kB\nFutureThing: 7 MB\nHugePages_Total:       0\nMemFree: 2 kB\n"u8, "meminfo");
        Assert.Equal(new Meminfo { MemTotalBytes = 10240, MemFreeBytes = 2048 }, m);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("MemTotal: 10 kB\n", 0)]
    [InlineData("MemTotal: 10 kB\nMemFree: 2 kB", 2)]
    [InlineData("MemTotal: 10\nMemFree: 2 kB\n", 1)]
    [InlineData("MemTotal: 10 kB\nno colon here\nMemFree: 2 kB\n", 2)]
    [InlineData("MemTotal: 10 kB\nCached: -1 kB\nMemFree: 2 kB\n", 2)]
    [InlineData("MemTotal: 18446744073709551615 kB\nMemFree: 2 kB\n", 1)]
    public void Parse_Malformed_ThrowsWithFileAndLine(string text, int line)
    {
        var e = Assert.Throws<ProcParseException>(() => Meminfo.Parse(Encoding.ASCII.GetBytes(text), "/proc/meminfo"));
        Assert.Equal(line, e.Line);
        Assert.StartsWith($"/proc/meminfo:{line}:", e.Message, StringComparison.Ordinal);
    }
}
