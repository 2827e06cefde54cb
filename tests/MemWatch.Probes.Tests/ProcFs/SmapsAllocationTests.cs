using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

/// <summary>Steady-state parsing allocates nothing per mapping (measured with the runtime's allocation counter).</summary>
public sealed class SmapsAllocationTests
{
    private static ulong Rss(ReadOnlySpan<byte> text)
    {
        ulong rss = 0;
        foreach (SmapsEntry e in Smaps.Parse(text, "smaps"))
        {
            rss += e.Fields.RssBytes;
        }

        return rss;
    }

    [Fact]
    public void Parse_ThirtyThousandMappingsInMemory_AllocatesNothing()
    {
        byte[] text = SmapsFixtures.Read(SmapsFixtures.ManyMappings, "smaps");
        Rss(text);

        long before = GC.GetAllocatedBytesForCurrentThread();
        ulong rss = Rss(text);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(rss > 0);
        Assert.Equal(0, allocated);
    }

    private static long StreamAndClassify(Smaps smaps, RegionClassifier classifier, int pid)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(smaps.TryOpen(SmapsFixtures.FileSystem, pid, out SmapsReader reader));
        MemoryLayout layout = classifier.Classify(ref reader, null, []);
        reader.Dispose();
        Assert.True(layout.MappingCount > 0);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void TryOpenAndClassify_ReusedInstances_AllocationDoesNotGrowWithMappings()
    {
        var smaps = new Smaps();
        var classifier = new RegionClassifier();
        StreamAndClassify(smaps, classifier, SmapsFixtures.ManyMappings);
        StreamAndClassify(smaps, classifier, SmapsFixtures.Glibc);

        long many = StreamAndClassify(smaps, classifier, SmapsFixtures.ManyMappings);
        long few = StreamAndClassify(smaps, classifier, SmapsFixtures.Glibc);

        // Per read: the file handle, the path, the result and the strings naming the allocator; none per mapping.
        Assert.True(Math.Abs(many - few) < 512, $"30,024 mappings allocated {many} B, 43 mappings {few} B");
    }
}
