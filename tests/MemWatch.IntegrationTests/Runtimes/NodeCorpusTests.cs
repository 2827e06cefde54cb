using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// The runtime corpus's Node.js scenarios: /usr/bin/node running tests/workloads/runtimes/node_workload.js. With
/// --introspect the verdict reads V8's own heap figures (remote calls on the idle event loop), asserted by their source.
/// </summary>
public sealed class NodeCorpusTests(ITestOutputHelper output)
{
    private const string V8Source = "v8::Isolate::GetHeapStatistics";

    private static RuntimeProgram Node(params string[] args) =>
        RuntimeProgram.Start("/usr/bin/node", ["--max-old-space-size=1024", Path.Combine(RuntimeCorpus.Workloads, "node_workload.js"), .. args]);

    [Fact]
    public void ObjectsKeptAlive_IsManagedHeapGrowthBelowItsMaximum()
    {
        using RuntimeProgram p = Node("growth");
        RuntimeCorpus.Run(output, "node: objects kept alive (--max-old-space-size=1024)", p, p.Pid, "heap_used", Truth.Grows, ["managed-heap-growth"], introspectedSource: V8Source);
    }

    [Fact]
    public void GarbageChurnedAtConstantLiveSize_IsNotALeak()
    {
        using RuntimeProgram p = Node("churn");
        RuntimeCorpus.Run(output, "node: garbage churned at a constant live size", p, p.Pid, "heap_total", Truth.Holds, ["stable"], introspectedSource: V8Source);
    }

    [Fact]
    public void ObjectsKeptAndIdle_IsStable()
    {
        using RuntimeProgram p = Node("stable");
        RuntimeCorpus.Run(output, "node: 300k objects kept, idle", p, p.Pid, "heap_used", Truth.Holds, ["stable"], introspectedSource: V8Source);
    }
}
