using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>The runtime corpus's Go scenarios: tests/workloads/runtimes/go_workload.go built with Debian's golang at test time.</summary>
public sealed class GoCorpusTests(ITestOutputHelper output)
{
    private static RuntimeProgram Go(string mode, Dictionary<string, string>? environment = null) =>
        RuntimeProgram.Start(RuntimeCorpus.BuildGo(), [mode], environment);

    [Fact]
    public void SliceOfBuffersGrowing_IsALeak()
    {
        using RuntimeProgram p = Go("leak");
        RuntimeCorpus.Run(output, "go: buffers appended to a global slice", p, p.Pid, "heap_alloc", Truth.Grows, ["leak"]);
    }

    [Fact]
    public void GrowingBelowGomemlimit_IsManagedHeapGrowth()
    {
        using RuntimeProgram p = Go("leak", new() { ["GOMEMLIMIT"] = "2GiB" });
        RuntimeCorpus.Run(output, "go: the same under GOMEMLIMIT=2GiB", p, p.Pid, "heap_alloc", Truth.Grows, ["managed-heap-growth"]);
    }

    [Fact]
    public void GarbageChurned_IsStable()
    {
        using RuntimeProgram p = Go("churn");
        RuntimeCorpus.Run(output, "go: garbage churned at a constant live size", p, p.Pid, "heap_inuse", Truth.Holds, ["stable"]);
    }

    [Fact]
    public void HeapHeldAndIdle_IsStable()
    {
        using RuntimeProgram p = Go("stable");
        RuntimeCorpus.Run(output, "go: 50 MiB kept, idle", p, p.Pid, "heap_alloc", Truth.Holds, ["stable"]);
    }
}
