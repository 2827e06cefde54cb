using MemWatch.Probes.Allocators;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.Regions;

/// <summary>
/// The classifier over the captured fixtures. Without the live process there is no /proc/PID/mem, so these run on layout
/// evidence; expectations come from what each workload did (see Fixtures/README.md) and from the awk figures.
/// </summary>
public sealed class RegionClassifierFixtureTests
{
    public static readonly TheoryData<int> Pids = new(SmapsFixtures.All);

    private static MemoryLayout Classify(int pid)
    {
        SmapsReader reader = Smaps.Parse(SmapsFixtures.Read(pid, "smaps"), "smaps");
        return new RegionClassifier().Classify(ref reader, memory: null, stackPointers: []);
    }

    [Theory]
    [MemberData(nameof(Pids))]
    public void Classify_Fixture_KindsPartitionEveryMapping(int pid)
    {
        IReadOnlyDictionary<string, decimal> awk = SmapsFixtures.Expected(pid);

        MemoryLayout layout = Classify(pid);

        Assert.Equal(RegionEvidence.Layout, layout.Evidence);
        Assert.Equal(awk["mappings"], layout.MappingCount);
        Assert.Equal(awk["mappings"], layout.Regions.Sum(r => r.Count));
        Assert.Equal(awk["sum.Rss"] * 1024, layout.RssBytes);
        Assert.Equal(awk["sum.Rss"] * 1024, layout.Regions.Sum(r => (decimal)r.RssBytes));
        Assert.Equal(awk["sum.Pss"] * 1024, layout.PssBytes);
        Assert.Equal(awk["sum.Swap"] * 1024, layout.SwapBytes);
        Assert.Equal(awk["sum.Size"] * 1024, layout.Regions.Sum(r => (decimal)r.SizeBytes));
        Assert.Equal(awk["sum.Private_Dirty"] * 1024, layout.Regions.Sum(r => (decimal)r.PrivateDirtyBytes));
        for (int i = 0; i < layout.Regions.Count; i++)
        {
            Assert.Equal((RegionKind)i, layout.Regions[i].Kind);
        }
    }

    [Fact]
    public void Classify_GlibcFourThreads_FourArenasAndFourGuardedStacks()
    {
        MemoryLayout layout = Classify(SmapsFixtures.Glibc);

        Assert.Equal(AllocatorKind.Glibc, layout.Allocator.Kind);
        Assert.False(layout.Allocator.DotNetRuntime);
        Assert.True(layout.HasMainArena);
        Assert.Equal(4, layout.ArenaCount);
        Assert.Equal(8, layout[RegionKind.Arena].Count);
        Assert.Equal(4 * RegionClassifier.HeapMaxBytes, layout[RegionKind.Arena].SizeBytes);
        // 4 threads x 8,000,000 bytes in 200-byte blocks (208-byte chunks).
        Assert.InRange(layout[RegionKind.Arena].RssBytes, 4 * 8_000_000UL, 4 * 8_000_000UL * 11 / 10);
        // 20,000,000 bytes in 100-byte blocks (112-byte chunks) on the main heap.
        Assert.InRange(layout[RegionKind.Heap].RssBytes, 20_000_000UL, 20_000_000UL * 12 / 10);
        // [stack] + 4 x (guard + 8 MiB stack), ulimit -s 8192.
        Assert.Equal(9, layout[RegionKind.Stack].Count);
        Assert.InRange(layout[RegionKind.Stack].SizeBytes, 4 * (8UL << 20), 5 * (8UL << 20));
        // No memory to read chunk headers: the mmapped chunks (64 MiB, and the 1.6 MB array of 200,000 block pointers)
        // stay anonymous under layout evidence.
        Assert.Equal(0, layout[RegionKind.MmapChunk].Count);
        Assert.InRange(layout[RegionKind.Anon].RssBytes, (64UL << 20) + 1_600_000, 68UL << 20);
    }

    [Fact]
    public void Classify_Jemalloc_AllocatorExtentsHoldTheWorkload()
    {
        MemoryLayout layout = Classify(SmapsFixtures.Jemalloc);

        Assert.Equal(AllocatorKind.Jemalloc, layout.Allocator.Kind);
        Assert.EndsWith("/libjemalloc.so.2", layout.Allocator.LibraryPath, StringComparison.Ordinal);
        Assert.Equal(0, layout.ArenaCount);
        // 4 x 8,000,000 + 20,000,000 + 64 MiB touched by the workload.
        Assert.True(layout[RegionKind.AllocatorExtent].RssBytes >= 52_000_000UL + (64UL << 20));
        Assert.Equal(9, layout[RegionKind.Stack].Count);
    }

    [Fact]
    public void Classify_Tcmalloc_SbrkHeapAndExtentsHoldTheWorkload()
    {
        MemoryLayout layout = Classify(SmapsFixtures.Tcmalloc);

        Assert.Equal(AllocatorKind.GperftoolsTcmalloc, layout.Allocator.Kind);
        Assert.Equal(0, layout.ArenaCount);
        Assert.True(layout[RegionKind.Heap].RssBytes + layout[RegionKind.AllocatorExtent].RssBytes >= 52_000_000UL + (64UL << 20));
    }

    [Fact]
    public void Classify_DotNet_GcReservationIsGcHeap()
    {
        MemoryLayout layout = Classify(SmapsFixtures.DotNet);

        Assert.True(layout.Allocator.DotNetRuntime);
        Assert.Equal(AllocatorKind.Glibc, layout.Allocator.Kind);
        // The app holds 2,000 arrays of 50,000 bytes.
        Assert.True(layout[RegionKind.GcHeap].RssBytes >= 100_000_000UL);
        // The regions range is 2 x physical memory (24 GiB here).
        Assert.True(layout[RegionKind.GcHeap].SizeBytes >= 40UL << 30);
        // Nine 64 MiB-aligned rw-p + ---p pairs in the maps (the live run read nine distinct heap_info.ar_ptr).
        Assert.Equal(9, layout.ArenaCount);
        Assert.True(layout[RegionKind.Shmem].Count > 0);
    }

    [Fact]
    public void Classify_ManyMappings_AlternatingPagesAreAnonymous()
    {
        MemoryLayout layout = Classify(SmapsFixtures.ManyMappings);

        Assert.True(layout[RegionKind.Anon].Count >= 30_000);
        // 15,000 touched rw pages.
        Assert.True(layout[RegionKind.Anon].RssBytes >= 15_000UL * 4096);
    }

    [Fact]
    public void Classify_ReusedClassifier_GivesSameResultTwice()
    {
        var classifier = new RegionClassifier();
        SmapsReader first = Smaps.Parse(SmapsFixtures.Read(SmapsFixtures.DotNet, "smaps"), "smaps");
        MemoryLayout a = classifier.Classify(ref first, null, []);
        SmapsReader other = Smaps.Parse(SmapsFixtures.Read(SmapsFixtures.Glibc, "smaps"), "smaps");
        classifier.Classify(ref other, null, []);
        SmapsReader again = Smaps.Parse(SmapsFixtures.Read(SmapsFixtures.DotNet, "smaps"), "smaps");
        MemoryLayout b = classifier.Classify(ref again, null, []);

        Assert.Equal(a.Regions, b.Regions);
        Assert.Equal(a with { Regions = b.Regions }, b);
    }
}
