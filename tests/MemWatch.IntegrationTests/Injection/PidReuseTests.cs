using MemWatch.IntegrationTests.Support;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// PID reuse through /proc/sys/kernel/ns_last_pid: a process meant by its start time exits, another one is started
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

        using Workload? second = StartWithPid(pid);
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

    /// <summary>
    /// Starts the workload so that it gets <paramref name="pid"/>: the shell and the workload are the next two PIDs after
    /// ns_last_pid, unless a thread of this process or another process takes one in between: the offset is varied and
    /// the start retried; null if it never worked.
    /// </summary>
    private static Workload? StartWithPid(int pid)
    {
        for (int attempt = 0; attempt < 60; attempt++)
        {
            int offset = 2 + (attempt % 3);
            File.WriteAllText("/proc/sys/kernel/ns_last_pid", (pid - offset).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Workload w = Workload.Start("lock_holders.c", "malloc-stack");
            if (w.Pid == pid)
            {
                return w;
            }

            w.Dispose();
        }

        return null;
    }

    private static ulong StartTime(int pid) =>
        ProcStat.TryRead(ProcFileSystem.Default, pid, new FileBuffer(4096), out ProcStat? stat) ? stat.StartTimeTicks : 0;
}
