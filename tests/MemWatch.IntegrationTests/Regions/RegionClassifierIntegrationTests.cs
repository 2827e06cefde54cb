using System.Globalization;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;

namespace MemWatch.IntegrationTests.Regions;

/// <summary>The region model against real glibc processes built from tests/workloads/region_alloc.c.</summary>
public sealed class RegionClassifierIntegrationTests
{
    private static MemoryLayout Classify(Workload w)
    {
        Assert.True(new RegionClassifier().TryClassify(ProcFileSystem.Default, w.Pid, out MemoryLayout? layout));
        Assert.Equal(RegionEvidence.Memory, layout.Evidence);
        return layout;
    }

    // The workload answers just before its threads block: give them a moment to reach read(2), or the kernel
    // reports them "running" without registers.
    private static void WaitUntilAllThreadsSleep(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            bool allAsleep = Directory.EnumerateDirectories($"/proc/{pid}/task")
                .All(t => File.ReadAllText(Path.Combine(t, "stat")).Split(')')[^1].TrimStart().StartsWith('S'));
            if (allAsleep)
            {
                return;
            }

            Thread.Sleep(10);
        }
    }

    [Fact]
    public void TryClassify_EightThreadsEachHolding80MB_ExactlyEightArenas()
    {
        using Workload w = Workload.Start("region_alloc.c");
        // 80 MB per thread in 200-byte blocks: more than one 64 MiB heap per arena, so heaps outnumber arenas.
        w.Send("threads 8 80000000 200", TimeSpan.FromMinutes(2));

        MemoryLayout layout = Classify(w);

        Assert.Equal(AllocatorKind.Glibc, layout.Allocator.Kind);
        Assert.Equal(8, layout.ArenaCount);
        Assert.True(layout.HasMainArena);
        Assert.True(layout[RegionKind.Arena].SizeBytes >= 16 * RegionClassifier.HeapMaxBytes);
        Assert.True(layout[RegionKind.Arena].RssBytes >= 8 * 80_000_000UL);
    }

    // A 64 MiB-aligned rw anonymous mapping larger than 64 MiB: heaps the kernel merged into one mapping.
    private static bool HasMergedHeaps(int pid) =>
        File.ReadLines($"/proc/{pid}/maps").Any(line =>
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] range = f[0].Split('-');
            ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return f.Length == 5 && f[1] == "rw-p" && (start & (RegionClassifier.HeapMaxBytes - 1)) == 0 && end - start > RegionClassifier.HeapMaxBytes;
        });

    [Fact]
    public void TryClassify_ThreadFillsItsFirstHeapBeforeAnyOtherHeapIsMapped_MergedHeapsCountAsItsArena()
    {
        // The second thread's first heap usually comes from an aligned 128 MiB mmap, which makes glibc map the next heap
        // (its own second one, once the first is full) right above it, and the kernel merges the two: one rw mapping
        // of about 80 MiB. Whether the mmap is aligned depends on where the thread stack went (7 processes in 10 here),
        // so fresh processes are tried until one shows the merge.
        for (int attempt = 0; attempt < 12; attempt++)
        {
            using Workload w = Workload.Start("region_alloc.c");
            w.Send("threads 1 1000 100");
            w.Send("threads 1 80000000 200", TimeSpan.FromMinutes(2));
            if (!HasMergedHeaps(w.Pid))
            {
                continue;
            }

            MemoryLayout layout = Classify(w);

            Assert.Equal(2, layout.ArenaCount);
            Assert.True(layout[RegionKind.Arena].SizeBytes >= 3 * RegionClassifier.HeapMaxBytes);
            Assert.True(layout[RegionKind.Arena].RssBytes >= 80_000_000UL);
            return;
        }

        Assert.Fail("no process in 12 showed kernel-merged arena heaps");
    }

    [Fact]
    public void TryClassify_OneGiBInSmallBlocksOnMainHeap_HeapRssNearOneGiB()
    {
        using Workload w = Workload.Start("region_alloc.c");
        // 1016-byte requests are 1024-byte chunks: 0.8% overhead.
        w.Send("heap 1073741824 1016", TimeSpan.FromMinutes(2));

        MemoryLayout layout = Classify(w);

        Assert.Equal(1, layout[RegionKind.Heap].Count);
        Assert.InRange(layout[RegionKind.Heap].RssBytes, 1UL << 30, (1UL << 30) * 103 / 100);
        Assert.Equal(0, layout.ArenaCount);
    }

    [Fact]
    public void TryClassify_One64MiBMalloc_OneMmapChunkOfThatSize()
    {
        using Workload w = Workload.Start("region_alloc.c");
        string answer = w.Send("big 67108864");
        ulong pointer = ulong.Parse(answer[5..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

        MemoryLayout layout = Classify(w);

        RegionTotals chunks = layout[RegionKind.MmapChunk];
        Assert.Equal(1, chunks.Count);
        // 64 MiB plus the 16-byte chunk header, rounded up to pages; the kernel may have merged a few pages of older
        // anonymous memory above it into the same mapping.
        Assert.InRange(chunks.SizeBytes, (64UL << 20) + 4096, (64UL << 20) + (64 << 10));
        Assert.InRange(chunks.RssBytes, 64UL << 20, (64UL << 20) + (64 << 10));
        Assert.Equal(0x10UL, pointer & 0xfff);
    }

    [Fact]
    public void TryClassify_SixBlockedThreads_FindsEveryThreadStack()
    {
        using Workload w = Workload.Start("region_alloc.c");
        w.Send("threads 6 1000 100");
        WaitUntilAllThreadsSleep(w.Pid);

        MemoryLayout layout = Classify(w);

        // Six workers blocked in read(2) and the main thread blocked reading stdin.
        Assert.Equal(7, layout.ThreadsWithStackPointer);
        Assert.Equal(7, layout.ThreadStacksFound);
        // [stack] plus guard and stack per thread (8 MiB each with ulimit -s 8192).
        Assert.Equal(13, layout[RegionKind.Stack].Count);
        Assert.True(layout[RegionKind.Stack].SizeBytes >= 6 * (8UL << 20));
    }

    [Fact]
    public void TryClassify_IdleProcess_TotalsMatchKernelRollup()
    {
        using Workload w = Workload.Start("region_alloc.c");
        w.Send("threads 2 1000000 100");
        w.Send("big 1000000");
        Assert.True(SmapsRollup.TryRead(ProcFileSystem.Default, w.Pid, new FileBuffer(), out SmapsRollup? rollup));

        MemoryLayout layout = Classify(w);

        Assert.Equal(rollup.RssBytes, layout.RssBytes);
        Assert.Equal(rollup.SwapBytes, layout.SwapBytes);
        Assert.InRange(layout.PssBytes, rollup.PssBytes - ((ulong)layout.MappingCount * 1024), rollup.PssBytes);
        Assert.Equal(1, layout[RegionKind.MmapChunk].Count);
        Assert.Equal(2, layout.ArenaCount);
    }

    [Fact]
    public void TryClassify_ExitedProcess_ReturnsFalse()
    {
        using Workload w = Workload.Start("region_alloc.c");
        w.Send("threads 2 1000000 100");
        w.Kill();

        Assert.False(new RegionClassifier().TryClassify(ProcFileSystem.Default, w.Pid, out _));
    }
}
