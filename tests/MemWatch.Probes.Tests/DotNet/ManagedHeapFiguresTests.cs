using MemWatch.Probes.Allocators;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.Regions;

namespace MemWatch.Probes.Tests.DotNet;

/// <summary>Counter values to figures (units as RuntimeEventSource sends them) and figures plus regions to the split.</summary>
public sealed class ManagedHeapFiguresTests
{
    private const ulong MiB = 1024 * 1024;

    [Fact]
    public void ToFigures_ConvertsMegabytesPercentAndIncrements()
    {
        var c = new Dictionary<string, CounterValue>
        {
            ["gc-heap-size"] = new(123.456789, 1),
            ["gc-committed"] = new(200, 1),
            ["gc-fragmentation"] = new(10, 1),
            ["gen-0-size"] = new(1000, 1),
            ["gen-1-size"] = new(2000, 1),
            ["gen-2-size"] = new(3000, 1),
            ["loh-size"] = new(4000, 1),
            ["poh-size"] = new(0, 1),
            ["alloc-rate"] = new(4_000_000, 2),
            ["gen-0-gc-count"] = new(3, 2),
            ["gen-1-gc-count"] = new(1, 2),
            ["gen-2-gc-count"] = new(1, 2),
            ["working-set"] = new(300.5, 1),
        };

        ManagedHeapFigures f = ManagedHeapReader.ToFigures(c);

        Assert.Equal(123_456_789UL, f.GcHeapBytes);
        Assert.Equal(200_000_000UL, f.GcCommittedBytes);
        Assert.Equal(1000UL, f.FragmentationBytes);
        Assert.Equal(4000UL, f.LohBytes);
        Assert.Equal(0UL, f.PohBytes);
        Assert.Equal(2_000_000, f.AllocationRateBytesPerSecond);
        Assert.Equal(2, f.IntervalSeconds);
        Assert.Equal(3UL, f.GcCount);
        Assert.Equal(1UL, f.Gen2GcCount);
        Assert.Equal(300_500_000UL, f.WorkingSetBytes);

        // Survivors of the last GC: 10000 bytes of generations less 1000 of fragmentation.
        Assert.Equal(123_456_789UL - 9000, f.AllocatedSinceLastGcBytes);
        Assert.Equal(0UL, (f with { GcHeapBytes = 5000 }).AllocatedSinceLastGcBytes);
    }

    [Fact]
    public void ToFigures_MissingCountersAreNullNotZero()
    {
        ManagedHeapFigures f = ManagedHeapReader.ToFigures(new Dictionary<string, CounterValue>
        {
            ["gc-heap-size"] = new(1, 1),
            ["gc-fragmentation"] = new(50, 1),
            ["gc-committed"] = new(0, 1),
        });

        Assert.Equal(1_000_000UL, f.GcHeapBytes);
        Assert.Null(f.GcCommittedBytes); // 0 before the first GC: unknown
        Assert.Null(f.PohBytes);
        Assert.Null(f.FragmentationBytes);
        Assert.Null(f.AllocationRateBytesPerSecond);
        Assert.Null(f.GcCount);
        Assert.Null(f.AllocatedSinceLastGcBytes);
    }

    [Fact]
    public void Split_AssignsRegionsToHolders()
    {
        var totals = new RegionTotals[RegionKindNames.Count];
        for (int i = 0; i < totals.Length; i++)
        {
            totals[i] = new RegionTotals((RegionKind)i) { Count = 1, RssBytes = (ulong)(i + 1) * MiB };
        }

        MemoryLayout layout = Layout(totals);
        var figures = new ManagedHeapFigures { GcHeapBytes = 40 * MiB, GcCommittedBytes = 50 * MiB, IntervalSeconds = 1, TakenAt = DateTimeOffset.UnixEpoch };

        DotNetMemorySplit s = DotNetMemorySplit.From(figures, layout);

        Assert.Equal(40 * MiB, s.ManagedHeapBytes);
        Assert.Equal(10 * MiB, s.GcCommittedFreeBytes);
        Assert.Equal(((int)RegionKind.GcHeap + 1) * MiB, s.GcResidentBytes);
        Assert.Equal(((int)RegionKind.Anon + 1) * MiB, s.RuntimeNativeBytes);
        Assert.Equal(((int)RegionKind.Heap + 1 + (int)RegionKind.Arena + 1 + (int)RegionKind.MmapChunk + 1 + (int)RegionKind.AllocatorExtent + 1) * MiB, s.OtherNativeBytes);
        Assert.Equal(((int)RegionKind.FileCode + 1 + (int)RegionKind.FileData + 1) * MiB, s.FileBytes);
        Assert.Equal(((int)RegionKind.Stack + 1) * MiB, s.StackBytes);
        Assert.True(s.GcRegionRecognized);
    }

    [Fact]
    public void Split_CommittedBelowHeapOrUnknown()
    {
        MemoryLayout layout = Layout(Enumerable.Range(0, RegionKindNames.Count).Select(i => new RegionTotals((RegionKind)i)).ToArray());

        DotNetMemorySplit below = DotNetMemorySplit.From(new ManagedHeapFigures { GcHeapBytes = 60 * MiB, GcCommittedBytes = 50 * MiB, IntervalSeconds = 1, TakenAt = default }, layout);
        DotNetMemorySplit unknown = DotNetMemorySplit.From(new ManagedHeapFigures { GcHeapBytes = 60 * MiB, IntervalSeconds = 1, TakenAt = default }, layout);

        Assert.Equal(0UL, below.GcCommittedFreeBytes);
        Assert.Null(unknown.GcCommittedFreeBytes);
        Assert.False(below.GcRegionRecognized);
    }

    private static MemoryLayout Layout(RegionTotals[] totals) => new()
    {
        Regions = totals,
        ArenaCount = 0,
        HasMainArena = true,
        MappingCount = totals.Length,
        SizeBytes = 0,
        RssBytes = totals.Aggregate(0UL, (s, t) => s + t.RssBytes),
        PssBytes = 0,
        SwapBytes = 0,
        Evidence = RegionEvidence.Layout,
        Allocator = new AllocatorInfo(AllocatorKind.Glibc, "/usr/lib/x86_64-linux-gnu/libc.so.6", DotNetRuntime: true, IsStaticallyLinked: false),
        ThreadsWithStackPointer = 0,
        ThreadStacksFound = 0,
    };
}
