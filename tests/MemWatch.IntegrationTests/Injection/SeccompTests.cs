using System.Globalization;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// tests/workloads/seccomp_target.c under each kind of seccomp confinement: a thread sleeping in nanosleep counts every
/// failure (EPERM from a filter evaluating a system call it did not make, EINTR) and early return; a thread churns
/// checksummed heap blocks. A strict target is refused; an allow-list that lacks a system call the call could make is
/// refused; a complete allow-list (ERRNO or KILL default) is proven and used, 50 calls and 50 injector kills, unharmed.
/// </summary>
public sealed class SeccompTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_callTimeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("errno")]
    [InlineData("kill")]
    public void AllowList_CoveringTheCallsSystemCalls_CallsMadeAndNothingObservable(string mode)
    {
        using Workload target = Start(mode);
        Dictionary<string, int> tids = BlockingSyscallTests.ReadyTids(target.ReadyLine);
        var run = new AdversarialRun();
        run.Calls(target.Pid, [tids["sleeper"], tids["churn"], 0], 50, s_callTimeout);
        run.KillInjector(target.Pid, [tids["sleeper"], 0], 50, seed: 3);
        Thread.Sleep(100);
        Dictionary<string, long> stats = Stats(target);
        output.WriteLine($"{run}; {string.Join(' ', stats.Select(s => $"{s.Key}={s.Value}"))}");
        Assert.Empty(run.Failures);
        Assert.False(target.HasExited);
        Assert.Null(AdversarialRun.ThreadsHeld(target.Pid));
        Assert.Equal(0, stats["sleeper_s"]);
        Assert.Equal(0, stats["sleeper_e"]);
        Assert.Equal(0, stats["churn_bad"]);
        Assert.True(run.Completed >= 40, run.ToString());
    }

    [Fact]
    public void AllowList_WithoutMadvise_RefusedAndNothingObservable()
    {
        using Workload target = Start("errno-nomadvise");
        var run = new AdversarialRun();
        run.Calls(target.Pid, [0], 4, s_callTimeout);
        Dictionary<string, long> stats = Stats(target);
        Assert.Empty(run.Failures);
        Assert.Equal(0, run.Completed);
        Assert.Equal(4, run.Refused);
        Assert.Equal(0, stats["sleeper_s"]);
        Assert.Null(AdversarialRun.ThreadsHeld(target.Pid));

        var e = Assert.Throws<RemoteCallException>(() =>
        {
            using AllocatorConnection connection = AllocatorConnection.Open(target.Pid);
            connection.ReadStatistics(s_callTimeout);
        });
        Assert.Equal(RemoteCallFailure.NotSafe, e.Reason);
        Assert.Contains("system call 28", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StrictProcess_RefusedAtOpenAndUntouched()
    {
        using Workload target = Start("strict-process");
        var e = Assert.Throws<RemoteCallException>(() => AllocatorConnection.Open(target.Pid));
        Assert.Equal(RemoteCallFailure.NotSafe, e.Reason);
        Assert.Contains("strict", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, Stats(target)["sleeper_s"]);
    }

    [Fact]
    public void StrictThread_NeverUsedOtherThreadsServe()
    {
        using Workload target = Start("strict-thread");
        Dictionary<string, int> tids = BlockingSyscallTests.ReadyTids(target.ReadyLine);
        var run = new AdversarialRun();
        run.Calls(target.Pid, [tids["strict"]], 2, s_callTimeout);
        Assert.Equal(2, run.Refused);
        run.Calls(target.Pid, [0], 10, s_callTimeout);
        long before = Stats(target)["strict_r"];
        Thread.Sleep(100);
        Dictionary<string, long> stats = Stats(target);
        output.WriteLine(run.ToString());
        Assert.Empty(run.Failures);
        Assert.Equal(10, run.Completed);
        Assert.True(stats["strict_r"] > before, "the strict thread stopped reading");
        Assert.Equal(0, stats["sleeper_s"]);
    }

    /// <summary>
    /// The deploy decision for systemd units: any SystemCallFilter= (and MemoryDenyWriteExecute= and the like) puts
    /// MemWatch itself under seccomp, and the kernel then refuses it a target's filters, so a filtered target cannot be
    /// proven safe. `memwatch trim` run under a filter (tests/workloads/seccomp_exec.c, allow-all but acct) refuses the
    /// filtered target with exit 5 and names the cause; the target is untouched. The same target is trimmed by an
    /// unfiltered memwatch (the control).
    /// </summary>
    [Fact]
    public void FilteredMemwatch_FilteredTargetRefusedNamingTheCause()
    {
        string filtered = Workload.Build("seccomp_exec.c", "-lseccomp");
        using Workload target = Start("errno");
        string pid = target.Pid.ToString(CultureInfo.InvariantCulture);

        MemwatchCli.Result r = MemwatchCli.Run(["trim", pid], timeout: TimeSpan.FromMinutes(2), prefix: [filtered]);
        output.WriteLine($"exit {r.ExitCode}: {r.StandardError}");
        Assert.Equal(5, r.ExitCode);
        Assert.Contains("MemWatch itself runs under a seccomp filter", r.StandardError, StringComparison.Ordinal);
        Assert.Null(AdversarialRun.ThreadsHeld(target.Pid));
        Assert.Equal(0, Stats(target)["sleeper_s"]);

        MemwatchCli.Result control = MemwatchCli.Run(["trim", pid], timeout: TimeSpan.FromMinutes(2));
        Assert.True(control.ExitCode == 0, control.StandardError);
    }

    private static Workload Start(string mode) => Workload.Start("seccomp_target.c", mode, extraFlags: "-lseccomp");

    private static Dictionary<string, long> Stats(Workload target) =>
        target.Send("stats").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
}
