using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>The runtime corpus's CPython scenarios: Debian's /usr/bin/python3 running tests/workloads/runtimes/cpython_workload.py.</summary>
public sealed class CPythonCorpusTests(ITestOutputHelper output)
{
    private static RuntimeProgram Python(params string[] args) =>
        RuntimeProgram.Start("/usr/bin/python3", [Path.Combine(RuntimeCorpus.Workloads, "cpython_workload.py"), .. args]);

    [Fact]
    public void ListOfRecordsGrowing_IsALeak()
    {
        using RuntimeProgram p = Python("leak");
        RuntimeCorpus.Run(output, "cpython: records appended to a list", p, p.Pid, "allocated_blocks", Truth.Grows, ["leak"]);
    }

    [Fact]
    public void SurvivorsPinningArenas_IsPymallocRetention()
    {
        using RuntimeProgram p = Python("pinned");
        RuntimeCorpus.Run(output, "cpython: 2.2M objects, every 50th kept", p, p.Pid, "allocated_blocks", Truth.Holds, ["allocator-retention"], "pymalloc-arena-pinned");
    }

    [Fact]
    public void ObjectsKeptAndIdle_IsStable()
    {
        using RuntimeProgram p = Python("stable");
        RuntimeCorpus.Run(output, "cpython: 300k objects kept, idle", p, p.Pid, "allocated_blocks", Truth.Holds, ["stable"]);
    }

    [Fact]
    public void ObjectsBuiltAndDropped_IsStable()
    {
        using RuntimeProgram p = Python("churn");
        RuntimeCorpus.Run(output, "cpython: 200k objects built and dropped, repeatedly", p, p.Pid, "allocated_blocks", Truth.Holds, ["stable"]);
    }

    [Fact]
    public void ThreadsNeverJoined_IsAThreadLeak()
    {
        using RuntimeProgram p = Python("threads");
        RuntimeCorpus.Run(output, "cpython: 5 threads/s started, never joined", p, p.Pid, "threads", Truth.Grows, ["leak"], "thread-leak");
    }

    [Fact]
    public void FixedThreadPool_IsStable()
    {
        using RuntimeProgram p = Python("pool");
        RuntimeCorpus.Run(output, "cpython: a pool of 16 busy threads", p, p.Pid, "threads", Truth.Holds, ["stable"]);
    }

    [Fact]
    public void DevShmSegmentTouched_IsSharedMemoryGrowth()
    {
        string path = $"/dev/shm/memwatch-corpus-{Guid.NewGuid():N}";
        try
        {
            using RuntimeProgram p = Python("shm", path);
            RuntimeCorpus.Run(output, "cpython: a /dev/shm segment touched page by page", p, p.Pid, "shm_touched", Truth.Grows, ["shared-memory-growth"]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
