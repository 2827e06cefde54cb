using System.Globalization;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// tests/workloads/lock_holders.c: a thread that holds allocator locks outside the allocator's code (fork, malloc_stats
/// blocked on a full pipe, lazy and -z now builds) or runs on a stack malloc'd from the heap. A lock holder must never
/// run a call (refused by <c>SafePointRule</c>: a frame of its unwound stack is in fork or malloc_stats), calls on other
/// threads that wait for the held lock are rolled back, a call on the malloc'd stack stays inside that block (its
/// bounds come from its <c>struct pthread</c>), and nothing else is disturbed.
/// </summary>
public sealed class LockHolderTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("")]
    [InlineData("-ljemalloc")]
    [InlineData("-ltcmalloc")]
    public void ForkLoop_CallsNeverDeadlockAndForksGoOn(string allocator)
    {
        // jemalloc and tcmalloc take their own mutexes in pthread_atfork handlers around glibc's fork.
        using Workload target = Workload.Start("lock_holders.c", "fork", extraFlags: allocator);
        Dictionary<string, int> tids = BlockingSyscallTests.ReadyTids(target.ReadyLine);
        var run = new AdversarialRun();
        run.Calls(target.Pid, [tids["main"], 0, tids["sleeper"]], 50, TimeSpan.FromSeconds(3));
        run.KillInjector(target.Pid, [tids["main"], 0], 50, seed: 5);
        AssertUnharmed(target, run);
        long forks = Stats(target)["forks"];
        Thread.Sleep(200);
        Assert.True(Stats(target)["forks"] > forks, "the fork loop stopped");
    }

    [Theory]
    [InlineData("")]
    [InlineData("-Wl,-z,now")]
    public void MallocStatsOnFullPipe_HolderNeverUsedWaitersRolledBack(string flags)
    {
        using Workload target = Workload.Start("lock_holders.c", "malloc-stats", extraFlags: flags);
        Dictionary<string, int> tids = BlockingSyscallTests.ReadyTids(target.ReadyLine);
        var run = new AdversarialRun();

        // Pinned to the holder: refused before any call. Elsewhere: the callee waits for main_arena's lock, which the
        // holder keeps for good; mallinfo2 and malloc_trim hold no lock while they wait, so the call is rolled back.
        run.Calls(target.Pid, [tids["holder"]], 10, TimeSpan.FromSeconds(1));
        Assert.Equal(10, run.Refused);
        run.Calls(target.Pid, [tids["sleeper"]], 4, TimeSpan.FromMilliseconds(500));
        run.KillInjector(target.Pid, [tids["holder"]], 50, seed: 7);
        output.WriteLine(run.ToString());
        Assert.Equal(0, run.Completed);
        Assert.True(run.RolledBack >= 2, run.ToString());
        AssertUnharmed(target, run);
        Assert.Equal(1, Stats(target)["holder_in"]);
    }

    [Fact]
    public void MallocdThreadStack_CallsStayInItsBlockCanaryIntact()
    {
        using Workload target = Workload.Start("lock_holders.c", "malloc-stack");
        Dictionary<string, int> tids = BlockingSyscallTests.ReadyTids(target.ReadyLine);
        var run = new AdversarialRun();

        // Its 96 KiB block is its real stack: a call runs on it only when the frame and the callee's headroom fit inside.
        run.Calls(target.Pid, [tids["coroutine"]], 10, TimeSpan.FromSeconds(3));
        output.WriteLine(run.ToString());
        Assert.Equal(10, run.Refused + run.Completed);
        Assert.Equal(0, Stats(target)["canary_bad"]);
        run.Calls(target.Pid, [0, tids["sleeper"]], 40, TimeSpan.FromSeconds(3));
        run.KillInjector(target.Pid, [tids["coroutine"], 0], 50, seed: 9);
        AssertUnharmed(target, run);
        Assert.Equal(0, Stats(target)["canary_bad"]);
    }

    /// <summary>
    /// Every thread but the sleeper and the command reader churns checksummed heap blocks (the main thread included):
    /// calls pinned to churning threads run only where no frame is in the allocator; no block is ever corrupted.
    /// </summary>
    [Fact]
    public void ChurnOnEveryThread_CallsOnlyOutsideTheAllocatorNoBlockCorrupted()
    {
        using Workload target = Workload.Start("lock_holders.c", "churn-all");
        Dictionary<string, int> tids = BlockingSyscallTests.ReadyTids(target.ReadyLine);
        var run = new AdversarialRun();
        run.Calls(target.Pid, [tids["main"], tids["churn"], 0], 50, TimeSpan.FromSeconds(5));
        run.KillInjector(target.Pid, [tids["main"], tids["churn"]], 50, seed: 13);
        AssertUnharmed(target, run);
        long churned = Stats(target)["churn_r"];
        Thread.Sleep(100);
        Assert.True(Stats(target)["churn_r"] > churned, "the churn stopped");
    }

    [Fact]
    public void SignalStorm_HandlersNeverRunDuringCallsNothingLost()
    {
        using Workload target = Workload.Start("lock_holders.c", "signal-storm");
        Dictionary<string, int> tids = BlockingSyscallTests.ReadyTids(target.ReadyLine);
        var run = new AdversarialRun();
        run.Calls(target.Pid, [tids["main"], 0, tids["sleeper"], tids["churn"]], 50, TimeSpan.FromSeconds(5));
        run.KillInjector(target.Pid, [tids["main"], 0], 50, seed: 11);
        AssertUnharmed(target, run);
        Dictionary<string, long> stats = Stats(target);
        Assert.Equal(0, stats["ring_bad"]);
        Thread.Sleep(100);
        Assert.True(Stats(target)["alarms"] > stats["alarms"], "SIGALRM is no longer handled");
    }

    [Fact]
    public void ExecLoop_CallsMeetingAnExecAreGoneOrDoneNeverHarmful()
    {
        using Workload target = Workload.Start("lock_holders.c", "exec");
        var run = new AdversarialRun();
        run.Calls(target.Pid, [0], 50, TimeSpan.FromSeconds(5));
        run.KillInjector(target.Pid, [0], 50, seed: 17);
        output.WriteLine(run.ToString());
        Assert.Empty(run.Failures);
        Assert.False(target.HasExited);
        Assert.Null(AdversarialRun.ThreadsHeld(target.Pid));
        Assert.Equal(50, run.Completed + run.Refused + run.Gone);
    }

    private void AssertUnharmed(Workload target, AdversarialRun run)
    {
        Thread.Sleep(100);
        Dictionary<string, long> stats = Stats(target);
        output.WriteLine($"{run}; {string.Join(' ', stats.Select(s => $"{s.Key}={s.Value}"))}");
        Assert.Empty(run.Failures);
        Assert.False(target.HasExited);
        Assert.Null(AdversarialRun.ThreadsHeld(target.Pid));
        Assert.Equal(0, stats["sleeper_s"]);
        Assert.Equal(0, stats["sleeper_e"]);
        Assert.Equal(0, stats["churn_bad"]);
    }

    private static Dictionary<string, long> Stats(Workload target) =>
        target.Send("stats").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
}
