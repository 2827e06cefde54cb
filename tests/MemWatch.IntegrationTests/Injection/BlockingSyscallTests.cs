using System.Globalization;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// tests/workloads/blocking_syscalls.c: one thread per blocking system call (epoll_wait, epoll_pwait with and without a
/// signal mask, sigtimedwait,
/// nanosleep, clock_nanosleep, poll, ppoll, select, read, futex with and without timeout, pause, semop, accept, recvmsg),
/// each checking that its call never fails, returns early or comes back with a changed register. Remote calls are
/// pinned to each thread in turn, then an injector is SIGKILLed at random moments with calls in flight.
/// </summary>
public sealed class BlockingSyscallTests(ITestOutputHelper output)
{
    private static readonly string[] s_threads =
        ["epoll_wait", "epoll_pwait", "epoll_pwait_nomask", "sigtimedwait", "nanosleep", "clock_nanosleep", "poll", "ppoll", "select", "read", "futex", "futex_timed", "pause", "semop", "accept", "recvmsg"];

    [Fact]
    public void RemoteCalls_OnEveryBlockingSyscall_NothingObservable()
    {
        using Workload target = Workload.Start("blocking_syscalls.c");
        try
        {
            Dictionary<string, int> tids = ReadyTids(target.ReadyLine);
            List<int> pinned = [.. s_threads.Select(t => tids[t]), 0, 0];
            var run = new AdversarialRun();
            run.Calls(target.Pid, pinned, 51, TimeSpan.FromSeconds(10));
            run.KillInjector(target.Pid, pinned, 50, seed: 13);
            Thread.Sleep(300); // every timed thread finishes a round that straddles the last kill

            Dictionary<string, long> stats = Stats(target);
            output.WriteLine(run.ToString());
            output.WriteLine(string.Join(" ", stats.Where(s => s.Value != 0).Select(s => $"{s.Key}={s.Value}")));
            Assert.Empty(run.Failures);
            Assert.Null(AdversarialRun.ThreadsHeld(target.Pid));
            Assert.False(target.HasExited);
            foreach (string t in s_threads)
            {
                Assert.True(stats[t + "_s"] == 0, $"{t}: {stats[t + "_s"]} spurious returns (last {stats[t + "_err"]})");
                Assert.True(stats[t + "_e"] == 0, $"{t}: {stats[t + "_e"]} early returns");
                Assert.True(stats[t + "_b"] == 0, $"{t}: {stats[t + "_b"]} registers changed");
            }

            // The threads in ppoll and epoll_pwait with a mask wait with a temporary signal mask: refused, never used.
            Assert.InRange(run.Completed, 51 * 12 / 18, 51);
        }
        finally
        {
            if (!target.HasExited)
            {
                target.Send("quit"); // removes its semaphore set
            }
        }
    }

    [Fact]
    public void EpollPwait_WithoutAMask_IsUsed_WithAMask_IsRefusedBeforeItsThreadIsStopped()
    {
        using Workload target = Workload.Start("blocking_syscalls.c");
        try
        {
            Dictionary<string, int> tids = ReadyTids(target.ReadyLine);

            // A NULL mask leaves saved_sigmask alone (set_user_sigmask returns first): the thread runs calls like any.
            var run = new AdversarialRun();
            run.Calls(target.Pid, [tids["epoll_pwait_nomask"]], 6, TimeSpan.FromSeconds(10));
            output.WriteLine(run.ToString());
            Assert.Empty(run.Failures);
            Assert.Equal(6, run.Completed);

            // A mask: refused from /proc/PID/task/TID/syscall, before the thread is ever stopped (the message of that path).
            int masked = tids["epoll_pwait"];
            using (AllocatorConnection connection = AllocatorConnection.Open(target.Pid, new RemoteCallOptions { ThreadId = masked }))
            {
                RemoteCallException e = Assert.Throws<RemoteCallException>(() => connection.ReadStatistics(TimeSpan.FromSeconds(10)));
                output.WriteLine(e.Message);
                Assert.Equal(RemoteCallFailure.NotSafe, e.Reason);
                Assert.Contains($"thread {masked} waits in system call 281 with a temporary signal mask", e.Message, StringComparison.Ordinal);
            }

            Dictionary<string, long> stats = Stats(target);
            foreach (string t in (string[])["epoll_pwait", "epoll_pwait_nomask"])
            {
                Assert.True(stats[t + "_s"] == 0 && stats[t + "_b"] == 0, $"{t}: {stats[t + "_s"]} spurious returns (last {stats[t + "_err"]}), {stats[t + "_b"]} registers changed");
            }

            Assert.Null(AdversarialRun.ThreadsHeld(target.Pid));
        }
        finally
        {
            if (!target.HasExited)
            {
                target.Send("quit");
            }
        }
    }

    private static Dictionary<string, long> Stats(Workload target) =>
        target.Send("stats").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));

    internal static Dictionary<string, int> ReadyTids(string ready) =>
        ready.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
}
