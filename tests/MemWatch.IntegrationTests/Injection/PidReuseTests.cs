using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// PID reuse through clone3 with set_tid: a process meant by its start time exits, another one is started
/// with its PID, and a call meant for the first is refused as gone, naming the start times, with the second untouched.
/// </summary>
public sealed class PidReuseTests
{
    [Fact]
    public void Open_PidTakenByAnotherProcess_RefusedAsGoneAndNewcomerUntouched()
    {
        int pid;
        ulong meant;
        using (Workload first = Workload.Start("lock_holders.c", "malloc-stack"))
        {
            pid = first.Pid;
            meant = StartTime(pid);
        }

        using Workload? second = PidReuse.StartWithPid(pid, meant, "lock_holders.c", "malloc-stack");
        Assert.NotNull(second);
        Assert.NotEqual(meant, StartTime(pid));

        var e = Assert.Throws<RemoteCallException>(() =>
        {
            using AllocatorConnection c = AllocatorConnection.Open(pid, new RemoteCallOptions { ExpectedStartTimeTicks = meant });
            c.ReadStatistics(TimeSpan.FromSeconds(5));
        });
        Assert.Equal(RemoteCallFailure.ProcessExited, e.Reason);
        Assert.Contains("PID was reused", e.Message, StringComparison.Ordinal);
        Assert.Null(AdversarialRun.ThreadsHeld(pid));
        Assert.False(second.HasExited);

        // Meant as itself, the newcomer is served.
        using AllocatorConnection own = AllocatorConnection.Open(pid, new RemoteCallOptions { ExpectedStartTimeTicks = StartTime(pid) });
        Assert.Equal("glibc", own.ReadStatistics(TimeSpan.FromSeconds(10)).Allocator);
    }

    // The session holds a pidfd (or, where none is to be had, /proc/PID/stat) of the process it was opened on: once that
    // process is gone, no call is made in the one that takes its PID, whatever its start time.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Call_PidTakenAfterTheSessionOpened_RefusedAsGoneAndNewcomerUntouched(bool pidfd)
    {
        Workload first = Workload.Start("lock_holders.c", "malloc-stack");
        int pid = first.Pid;
        ulong meant = StartTime(pid);
        using AllocatorConnection c = AllocatorConnection.Open(pid, new RemoteCallOptions { ExpectedStartTimeTicks = meant, UsePidFd = pidfd });
        Assert.Equal("glibc", c.ReadStatistics(TimeSpan.FromSeconds(10)).Allocator);
        first.Dispose();

        using Workload? second = PidReuse.StartWithPid(pid, meant, "lock_holders.c", "malloc-stack");
        Assert.NotNull(second);

        var e = Assert.Throws<RemoteCallException>(() => c.ReadStatistics(TimeSpan.FromSeconds(5)));
        Assert.Equal(RemoteCallFailure.ProcessExited, e.Reason);
        Assert.Null(AdversarialRun.ThreadsHeld(pid));
        Assert.False(second.HasExited);
    }

    private static ulong StartTime(int pid) =>
        ProcStat.TryRead(ProcFileSystem.Default, pid, new FileBuffer(4096), out ProcStat? stat) ? stat.StartTimeTicks : 0;
}
