using MemWatch.Probes.SafePoints;

namespace MemWatch.Probes.Tests.SafePoints;

/// <summary>The critical-region index against the plain reading of its rule: the first region in list order that holds the pc.</summary>
public sealed class CriticalRegionsTests
{
    [Fact]
    public void TryFind_OverlappingRegions_TheFirstInListOrderWins()
    {
        var regions = new CriticalRegions(
        [
            new CriticalRegion(0x1100, 0x1200, CriticalRegionKind.MallocStatistics, "malloc_info"),
            new CriticalRegion(0x1000, 0x2000, CriticalRegionKind.GlibcMalloc, "glibc malloc"),
            new CriticalRegion(0x1f00, 0x3000, CriticalRegionKind.DynamicLoader, "ld.so"),
        ]);

        Assert.False(regions.TryFind(0xfff, out _));
        Assert.Equal("glibc malloc", Find(regions, 0x1000));
        Assert.Equal("malloc_info", Find(regions, 0x1100));
        Assert.Equal("malloc_info", Find(regions, 0x11ff));
        Assert.Equal("glibc malloc", Find(regions, 0x1200));
        Assert.Equal("glibc malloc", Find(regions, 0x1f00));
        Assert.Equal("ld.so", Find(regions, 0x2000));
        Assert.Equal("ld.so", Find(regions, 0x2fff));
        Assert.False(regions.TryFind(0x3000, out _));
        Assert.False(regions.TryFind(ulong.MaxValue, out _));
    }

    [Fact]
    public void TryFind_NoRegionsOrEmptyOnes_FindsNothing()
    {
        Assert.False(new CriticalRegions([]).TryFind(0x1000, out _));
        Assert.False(new CriticalRegions([new CriticalRegion(0x1000, 0x1000, CriticalRegionKind.Other, "empty")]).TryFind(0x1000, out _));
    }

    // The index against the plain reading of "the first region that holds pc", over random overlapping regions.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TryFind_RandomRegions_AgreesWithALinearScan(int seed)
    {
        var random = new Random(seed);
        var list = new List<CriticalRegion>();
        for (int i = 0; i < 300; i++)
        {
            ulong start = (ulong)random.Next(0, 100_000);
            list.Add(new CriticalRegion(start, start + (ulong)random.Next(0, 2_000), CriticalRegionKind.Other, $"r{i}"));
        }

        var regions = new CriticalRegions(list);
        for (int i = 0; i < 20_000; i++)
        {
            ulong pc = (ulong)random.Next(0, 103_000);
            int expected = list.FindIndex(r => r.Contains(pc));
            bool found = regions.TryFind(pc, out CriticalRegion region);
            Assert.Equal(expected >= 0, found);
            if (found)
            {
                Assert.Equal(list[expected].Name, region.Name);
            }
        }
    }

    private static string Find(CriticalRegions regions, ulong pc) => regions.TryFind(pc, out CriticalRegion r) ? r.Name : "(none)";
}
