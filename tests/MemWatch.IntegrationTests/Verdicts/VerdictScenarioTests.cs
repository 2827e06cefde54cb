using MemWatch.Probes.Allocators.Models;
using MemWatch.Probes.Verdicts;

namespace MemWatch.IntegrationTests.Verdicts;

/// <summary>
/// The scenario corpus (tests/workloads/scenarios): each workload reproduces one behaviour of the seed articles or
/// beyond, is sampled for a window of at most about 15 s, and must be classified right passively (where the passive
/// answer is determinable) and with introspection. docs/verdicts.md holds the accuracy table of a full run.
/// </summary>
[Collection("verdict scenarios")]
public sealed class VerdictScenarioTests
{
    private const double Baseline = 2;
    private const double Plateau = 6;
    private const double Growing = 10;

    [Fact]
    public void Seed000_ArenasOfFinishedThreadsWithCrossThreadFree_ArenaProliferation()
    {
        using Workload w = Workload.Start("scenarios/arena_cross_thread.c");
        ScenarioOutcome o = ScenarioRunner.Run("seed 000: arenas of finished producers, cross-thread free", w, Baseline, new ScenarioStep("burst", Plateau));
        AssertVerdict(o.Passive, VerdictKind.AllocatorRetention, RetentionMechanismKind.ArenaProliferation, o);
        AssertVerdict(o.Introspected, VerdictKind.AllocatorRetention, RetentionMechanismKind.ArenaProliferation, o);
    }

    [Fact]
    public void Seed001_100ByteBlocksFreed_FastbinTcacheHoard()
    {
        using Workload w = Workload.Start("scenarios/small_blocks.cc", "100");
        ScenarioOutcome o = ScenarioRunner.Run("seed 001: 128 MiB of 100-byte new/delete", w, Baseline, new ScenarioStep("burst 128", Plateau));
        AssertVerdict(o.Passive, VerdictKind.AllocatorRetention, null, o);
        Assert.NotNull(o.Passive.WhatWouldSettleIt);
        AssertVerdict(o.Introspected, VerdictKind.AllocatorRetention, RetentionMechanismKind.FastbinTcacheHoard, o);
        Assert.Contains(o.Introspected.Recommendations, r => r.Action == "malloc_trim(0)" && r.Live);
    }

    [Fact]
    public void Seed001_10KiBTwinFreed_ReturnedSoStable()
    {
        using Workload w = Workload.Start("scenarios/small_blocks.cc", "10240");
        ScenarioOutcome o = ScenarioRunner.Run("seed 001 twin: 128 MiB of 10 KiB new/delete", w, Baseline, new ScenarioStep("burst 128", Plateau));
        AssertVerdict(o.Passive, VerdictKind.Stable, null, o);
        AssertVerdict(o.Introspected, VerdictKind.Stable, null, o);
    }

    [Fact]
    public void Seed003_FreedBlocksBelowOneLiveBlock_TopChunkPinned()
    {
        using Workload w = Workload.Start("scenarios/top_pinned.c");
        ScenarioOutcome o = ScenarioRunner.Run("seed 003: 128 MiB freed below one live block", w, Baseline, new ScenarioStep("burst 128", Plateau));
        AssertVerdict(o.Passive, VerdictKind.AllocatorRetention, null, o);
        AssertVerdict(o.Introspected, VerdictKind.AllocatorRetention, RetentionMechanismKind.TopChunkPinned, o);
    }

    [Fact]
    public void Seed004_2MiBPoolAfterThresholdRaised_MmapThresholdRaised()
    {
        using Workload w = Workload.Start("scenarios/mmap_threshold_pool.c");
        ScenarioOutcome o = ScenarioRunner.Run("seed 004: 2 MiB pool blocks moved from mmap to the heap", w, Baseline,
            new("free", 1.5), new ScenarioStep("refill", Plateau));
        AssertVerdict(o.Passive, VerdictKind.AllocatorRetention, RetentionMechanismKind.MmapThresholdRaised, o);
        AssertVerdict(o.Introspected, VerdictKind.AllocatorRetention, RetentionMechanismKind.MmapThresholdRaised, o);
    }

    [Fact]
    public void EveryOther2KiBBlockFreed_Fragmentation()
    {
        using Workload w = Workload.Start("scenarios/fragmented_heap.c");
        ScenarioOutcome o = ScenarioRunner.Run("fragmentation: every other 2 KiB block of 128 MiB freed", w, Baseline, new ScenarioStep("burst 128", Plateau));
        AssertVerdict(o.Passive, VerdictKind.AllocatorRetention, null, o);
        AssertVerdict(o.Introspected, VerdictKind.AllocatorRetention, RetentionMechanismKind.Fragmentation, o);
    }

    [Fact]
    public void Seed004_100KiBHolesBetween64KiBPoolBlocks_Fragmentation()
    {
        using Workload w = Workload.Start("scenarios/pool_64k_fragments.c");
        ScenarioOutcome o = ScenarioRunner.Run("seed 004 pool: 100 KiB holes between live 64 KiB pool blocks", w, Baseline, new ScenarioStep("burst 160", Plateau));
        AssertVerdict(o.Passive, VerdictKind.AllocatorRetention, null, o);
        AssertVerdict(o.Introspected, VerdictKind.AllocatorRetention, RetentionMechanismKind.Fragmentation, o);
    }

    [Fact]
    public void SteadyLeak_4MiBPerSecond_Leak()
    {
        using Workload w = Workload.Start("scenarios/steady_leak.c", "4096");
        ScenarioOutcome o = ScenarioRunner.Run("steady leak, 4 MiB/s", w, 1, new ScenarioStep("start", Growing));
        AssertVerdict(o.Passive, VerdictKind.Leak, null, o);
        AssertVerdict(o.Introspected, VerdictKind.Leak, null, o);
        Assert.True(o.Introspected.Confidence > o.Passive.Confidence, o.Describe());
    }

    [Fact]
    public void SlowLeak_1MiBPerSecond_Leak()
    {
        using Workload w = Workload.Start("scenarios/steady_leak.c", "1024");
        ScenarioOutcome o = ScenarioRunner.Run("slow leak with faults, 1 MiB/s", w, 1, new ScenarioStep("start", 15));
        AssertVerdict(o.Passive, VerdictKind.Leak, null, o);
        AssertVerdict(o.Introspected, VerdictKind.Leak, null, o);
    }

    [Fact]
    public void LeakUnderHeavyChurn_Leak()
    {
        using Workload w = Workload.Start("scenarios/leak_under_churn.c");
        ScenarioOutcome o = ScenarioRunner.Run("leak hidden under heavy churn", w, 1, new ScenarioStep("start", Growing));
        AssertVerdict(o.Passive, VerdictKind.Leak, null, o);
        AssertVerdict(o.Introspected, VerdictKind.Leak, null, o);
    }

    [Fact]
    public void StableWorkingSetWithChurn_Stable()
    {
        using Workload w = Workload.Start("scenarios/stable_churn.c");
        ScenarioOutcome o = ScenarioRunner.Run("stable working set with churn", w, 1, new ScenarioStep("ping", Growing));
        AssertVerdict(o.Passive, VerdictKind.Stable, null, o);
        AssertVerdict(o.Introspected, VerdictKind.Stable, null, o);
    }

    [Fact]
    public void GrowingMappedFile_FileBackedGrowth()
    {
        string dir = Directory.CreateTempSubdirectory("memwatch-verdict-").FullName;
        try
        {
            using Workload w = Workload.Start("scenarios/file_growth.c", $"\"{Path.Combine(dir, "growing.dat")}\"");
            ScenarioOutcome o = ScenarioRunner.Run("growth in a mapped file", w, 1, new ScenarioStep("start", Growing));
            AssertVerdict(o.Passive, VerdictKind.FileBackedGrowth, null, o);
            AssertVerdict(o.Introspected, VerdictKind.FileBackedGrowth, null, o);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void JemallocBurstThenIdle_DirtyPages()
    {
        using Workload w = Workload.Start("scenarios/small_blocks_other_allocator.c", extraFlags: "-ljemalloc");
        ScenarioOutcome o = ScenarioRunner.Run("jemalloc: 128 MiB of 4 KiB blocks freed, then idle", w, Baseline, new ScenarioStep("burst 128", Plateau));
        AssertVerdict(o.Passive, VerdictKind.AllocatorRetention, null, o);
        AssertVerdict(o.Introspected, VerdictKind.AllocatorRetention, RetentionMechanismKind.DirtyPages, o);
    }

    [Fact]
    public void TcmallocBurstThenIdle_PageHeapRetention()
    {
        var env = new Dictionary<string, string> { ["LD_PRELOAD"] = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4" };
        using Workload w = Workload.Start("scenarios/small_blocks_other_allocator.c", environment: env);
        ScenarioOutcome o = ScenarioRunner.Run("tcmalloc (LD_PRELOAD): 128 MiB of 4 KiB blocks freed, then idle", w, Baseline, new ScenarioStep("burst 128", Plateau));
        AssertVerdict(o.Passive, VerdictKind.AllocatorRetention, null, o);
        AssertVerdict(o.Introspected, VerdictKind.AllocatorRetention, RetentionMechanismKind.DirtyPages, o);
    }

    private static void AssertVerdict(Verdict v, VerdictKind kind, RetentionMechanismKind? mechanism, ScenarioOutcome o)
    {
        Assert.True(v.Kind == kind && v.Mechanism == mechanism,
            $"expected {kind.ToName()} {(mechanism is { } m ? RetentionMechanism.NameOf(m) : "-")}\n{o.Describe()}");
        Assert.InRange(v.Confidence, 0.0, 1.0);
        Assert.NotEmpty(v.Evidence);
    }
}
