using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>The runtime corpus's JVM scenarios: OpenJDK 17 (java's source launcher) running tests/workloads/runtimes/JvmWorkload.java.</summary>
public sealed class JvmCorpusTests(ITestOutputHelper output)
{
    private static RuntimeProgram Java(string mode) =>
        RuntimeProgram.Start("java", ["-Xmx512m", Path.Combine(RuntimeCorpus.Workloads, "JvmWorkload.java"), mode]);

    [Fact]
    public void ObjectsKeptAlive_IsManagedHeapGrowthBelowXmx()
    {
        using RuntimeProgram p = Java("growth");
        RuntimeCorpus.Run(output, "jvm: byte arrays kept alive (-Xmx512m)", p, p.Pid, "heap_used", Truth.Grows, ["managed-heap-growth"]);
    }

    [Fact]
    public void GarbageChurned_IsStable()
    {
        using RuntimeProgram p = Java("churn");
        RuntimeCorpus.Run(output, "jvm: garbage churned at a constant live size", p, p.Pid, "heap_committed", Truth.Holds, ["stable"]);
    }

    [Fact]
    public void HeapHeldAndIdle_IsStable()
    {
        using RuntimeProgram p = Java("stable");
        RuntimeCorpus.Run(output, "jvm: 50 MiB kept, idle", p, p.Pid, "heap_committed", Truth.Holds, ["stable"]);
    }
}
