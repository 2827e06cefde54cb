using MemWatch.Probes.Allocators;

namespace MemWatch.Probes.Tests.Allocators;

public sealed class GlibcTrimModelTests
{
    private const ulong Page = 4096;

    [Fact]
    public void ExpectedWholePages_AnyChunkSize_EqualsMtrimArithmeticAveragedOverAlignments()
    {
        for (ulong size = 32; size < 5 * Page; size += 16)
        {
            // malloc.c mtrim, literally, for every 16-byte-aligned chunk position in a page.
            ulong sum = 0;
            for (ulong p = 0x10000; p < 0x10000 + Page; p += 16)
            {
                if (size > Page - 1 + 48)
                {
                    ulong paligned = (p + 48 + Page - 1) & ~(Page - 1);
                    ulong rest = size - (paligned - p);
                    if (rest > Page - 1)
                    {
                        sum += rest & ~(Page - 1);
                    }
                }
            }

            Assert.Equal(sum / (Page / 16), GlibcTrimModel.ExpectedWholePages(size, Page));
        }
    }

    [Theory]
    [InlineData(125584UL, 0UL, 122880UL)]
    [InlineData(4128UL, 0UL, 0UL)]
    [InlineData(4129UL, 0UL, 4096UL)]
    [InlineData(4096UL + 33UL + 4096UL, 0UL, 8192UL)]
    [InlineData(200000UL, 131072UL, 65536UL)]
    public void TopReleasableBytes_Sizes_FollowSystrim(ulong top, ulong pad, ulong expected)
        => Assert.Equal(expected, GlibcTrimModel.TopReleasableBytes(top, Page, pad));

    [Fact]
    public void Estimate_Consolidated_CountsUnsortedChunkPagesAndMainTop()
    {
        MallocInfoXml info = MallocInfoXml.Parse(MallinfoFixture.Xml("consolidated"), "consolidated");
        Dictionary<string, ulong> m = MallinfoFixture.Mallinfo2("consolidated");
        GlibcTrimEstimate e = GlibcTrimModel.Estimate(info, Page);

        MallocInfoBin unsorted = Assert.Single(info.Heaps[0].Bins);
        ulong chunk = unsorted.TotalBytes & ~15UL;
        Assert.Equal(GlibcTrimModel.ExpectedWholePages(chunk, Page), e.Arenas[0].FromBinsBytes);
        Assert.Equal(GlibcTrimModel.TopReleasableBytes(m["keepcost"], Page, 0), e.Arenas[0].FromTopBytes);
        Assert.Equal(0UL, e.Arenas[0].FromFastbinsBytes);

        // Nearly all the free memory is predicted to go: at most one page per chunk and the top's tail stay.
        Assert.InRange(m["fordblks"] - e.ReleasableBytes, 0UL, 2 * Page + 48);
    }

    [Fact]
    public void Estimate_Fastbins_PredictsTheSameAsAfterConsolidationWithinTwoPages()
    {
        GlibcTrimEstimate before = GlibcTrimModel.Estimate(MallocInfoXml.Parse(MallinfoFixture.Xml("fastbins"), "f"), Page);
        GlibcTrimEstimate after = GlibcTrimModel.Estimate(MallocInfoXml.Parse(MallinfoFixture.Xml("consolidated"), "c"), Page);
        Assert.True(before.Arenas[0].FromFastbinsBytes > 70_000_000UL);
        Assert.Equal(0UL, before.Arenas[0].FromBinsBytes);
        Assert.InRange((long)before.ReleasableBytes - (long)after.ReleasableBytes, -2 * (long)Page, 2 * (long)Page);
        Assert.True(before.ReleasableWithoutFastbinsBytes < Page * 64);
    }

    [Fact]
    public void Estimate_Threads_NeverCountsNonMainTops()
    {
        MallocInfoXml info = MallocInfoXml.Parse(MallinfoFixture.Xml("threads"), "threads");
        GlibcTrimEstimate e = GlibcTrimModel.Estimate(info, Page);
        Assert.Equal(info.Heaps.Count, e.Arenas.Count);
        Assert.True(info.Heaps.Count > 1);
        Assert.All(e.Arenas.Skip(1), a => Assert.Equal(0UL, a.FromTopBytes));
        Assert.Contains(info.Heaps.Skip(1), h => h.TopBytes > 0);
    }

    [Fact]
    public void Estimate_Holes_OnlyChunksLargerThanAPagePlusHeaderContribute()
    {
        MallocInfoXml info = MallocInfoXml.Parse(MallinfoFixture.Xml("holes"), "holes");
        GlibcTrimEstimate e = GlibcTrimModel.Estimate(info, Page);
        ulong bins = info.Heaps[0].BinBytes;
        ulong count = (ulong)info.Heaps[0].Bins.Sum(b => (long)b.Count);

        // Each 20-40 kB chunk keeps its header page fraction: between 48 and 48 + 2 pages per chunk stays.
        Assert.InRange(e.Arenas[0].FromBinsBytes, bins - (count * ((2 * Page) + 48)), bins - (count * 48));
    }
}
