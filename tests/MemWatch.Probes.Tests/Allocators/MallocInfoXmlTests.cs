using System.Text;
using MemWatch.Probes.Allocators;

namespace MemWatch.Probes.Tests.Allocators;

public sealed class MallocInfoXmlTests
{
    public static TheoryData<string> Captures => new() { "sample-mt", "fastbins", "consolidated", "holes", "threads" };

    [Theory]
    [MemberData(nameof(Captures))]
    public void Parse_Capture_AgreesWithMallinfo2OfTheSameProcess(string name)
    {
        MallocInfoXml info = MallocInfoXml.Parse(MallinfoFixture.Xml(name), name);
        Dictionary<string, ulong> m = MallinfoFixture.Mallinfo2(name);

        // mallinfo2 and malloc_info read the same arena fields through different code (int_mallinfo vs __malloc_info).
        Assert.Equal(m["arena"], info.SystemCurrentBytes);
        Assert.Equal(m["smblks"], info.FastCount);
        Assert.Equal(m["fsmblks"], info.FastBytes);
        Assert.Equal(m["ordblks"], info.RestCount);
        Assert.Equal(m["hblks"], info.MmapCount);
        Assert.Equal(m["hblkhd"], info.MmapBytes);

        // keepcost is chunksize(main_arena.top): the top derived from rest minus the listed bins must equal it.
        Assert.Equal(m["keepcost"], info.Heaps[0].TopBytes);

        // fordblks uses chunksize() (flags masked) where malloc_info adds raw size words: equal up to 7 per chunk.
        ulong free = info.FastBytes + info.RestBytes;
        Assert.InRange(free - m["fordblks"], 0UL, 7 * m["ordblks"]);
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void Parse_Capture_HeapsSumToTotalsAndCountsMatchText(string name)
    {
        byte[] xml = MallinfoFixture.Xml(name);
        MallocInfoXml info = MallocInfoXml.Parse(xml, name);
        string text = Encoding.ASCII.GetString(xml);
        Assert.Equal(CountOf(text, "<heap nr="), info.Heaps.Count);
        Assert.Equal(CountOf(text, "<size ") + CountOf(text, "<unsorted "), info.Heaps.Sum(h => h.Bins.Count));
        Assert.Equal(info.FastBytes, (ulong)info.Heaps.Sum(h => (long)h.FastBytes));
        Assert.Equal(info.RestBytes, (ulong)info.Heaps.Sum(h => (long)h.RestBytes));
        Assert.Equal(info.RestCount, (ulong)info.Heaps.Sum(h => (long)h.RestCount));
        foreach (MallocInfoHeap h in info.Heaps)
        {
            // rest count = 1 (top) + every chunk of the regular and unsorted bins.
            Assert.Equal(h.RestCount, 1 + (ulong)h.Bins.Where(b => b.Kind != MallocInfoBinKind.Fast).Sum(b => (long)b.Count));
            Assert.Equal(h.FastCount, (ulong)h.Bins.Where(b => b.Kind == MallocInfoBinKind.Fast).Sum(b => (long)b.Count));
        }
    }

    [Fact]
    public void Parse_SampleHeap1_SplitsFastbinUnsortedAndRegular()
    {
        MallocInfoXml info = MallocInfoXml.Parse(MallinfoFixture.Xml("sample-mt"), "sample");
        MallocInfoHeap h1 = info.Heaps[1];
        Assert.Equal(1, h1.Number);
        Assert.Equal(new MallocInfoBin(33, 48, 2736, 57, MallocInfoBinKind.Fast), h1.Bins[0]);
        Assert.Equal(new MallocInfoBin(289, 289, 289, 1, MallocInfoBinKind.Unsorted), h1.Bins[^1]);
        Assert.Equal(1UL, h1.Subheaps);
        Assert.Null(info.Heaps[0].Subheaps);
    }

    [Fact]
    public void Parse_TruncatedGarbledAndRandom_OnlyProcParseException()
    {
        byte[] original = MallinfoFixture.Xml("threads");
        var random = new Random(31337);
        int parsed = 0;
        for (int i = 0; i < 5000; i++)
        {
            byte[] input = (i % 3) switch
            {
                0 => original.AsSpan(0, random.Next(original.Length)).ToArray(),
                1 => Garble(original, random),
                _ => RandomXmlish(random),
            };
            try
            {
                MallocInfoXml.Parse(input, "case");
                parsed++;
            }
            catch (ProcParseException e)
            {
                Assert.Equal("case", e.File);
            }
        }

        Assert.InRange(parsed, 1, 4999);
    }

    private static byte[] Garble(byte[] original, Random random)
    {
        byte[] copy = (byte[])original.Clone();
        for (int f = random.Next(1, 6); f > 0; f--)
        {
            copy[random.Next(copy.Length)] = (byte)"0123456789\"<>/= \nxz"[random.Next(19)];
        }

        return copy;
    }

    private static byte[] RandomXmlish(Random random)
    {
        string[] parts = ["<malloc version=\"1\">", "<heap nr=\"", "\">", "<size from=\"", "\" to=\"", "\" total=\"", "\" count=\"", "\"/>",
            "<total type=\"fast\" count=\"", "\" size=\"", "</heap>", "</malloc>", "\n", "99999999999999999999", "7", "-1", "<system type=\"current\" size=\""];
        var sb = new StringBuilder();
        for (int i = random.Next(40); i > 0; i--)
        {
            sb.Append(parts[random.Next(parts.Length)]);
        }

        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static int CountOf(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }
}
