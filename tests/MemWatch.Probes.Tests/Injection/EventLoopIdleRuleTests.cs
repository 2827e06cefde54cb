using MemWatch.Probes.Injection;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Tests.Injection;

/// <summary>
/// The safe point of V8's calls (<see cref="EventLoopIdleRule"/>) and the signal-mask rule it relies on
/// (<see cref="SyscallRestart.SwapsSignalMask(long, ReadOnlySpan{ulong})"/>), on registers and unwound stacks built
/// here: a Node main thread idle in epoll_pwait from uv__io_poll from uv_run is accepted, anything else refused.
/// </summary>
public sealed class EventLoopIdleRuleTests
{
    private const int Main = 1000;
    private const ulong Libc = 0x7000_0000;
    private const ulong IoPoll = 0x40_0000;
    private const ulong Run = 0x41_0000;
    private const ulong Callback = 0x42_0000;

    private static readonly EventLoopIdleRule s_rule = new(Main, (IoPoll, IoPoll + 0x1000), (Run, Run + 0x1000), [(Libc, Libc + 0x10_0000)]);

    [Fact]
    public void IdleInEpollPwaitFromUvIoPollFromUvRun_IsSafe()
    {
        Assert.Null(s_rule.Refusal(Main, InEpoll(281), null));
        Assert.Null(s_rule.Refusal(Main, InEpoll(281), Stack(Libc + 0x100, Libc + 0x200, IoPoll + 0x10, Run + 0x10, 0x1234)));
        Assert.Null(s_rule.Refusal(Main, InEpoll(232), Stack(IoPoll + 0x10, Run + 0x10))); // a direct syscall in uv__io_poll
    }

    [Fact]
    public void RunningOrWaitingElsewhere_IsRefusedWithTheReason()
    {
        UserRegs running = default;
        running.OrigRax = ulong.MaxValue; // -1: stopped outside a system call
        Assert.Contains("is running", s_rule.Refusal(Main, running, null), StringComparison.Ordinal);
        Assert.Contains("system call 202", s_rule.Refusal(Main, InEpoll(202), null), StringComparison.Ordinal);
        Assert.Contains("not the isolate's thread", s_rule.Refusal(Main + 1, InEpoll(281), null), StringComparison.Ordinal);

        // epoll waits reached from a callback (JavaScript or V8 on the stack between), or from uv__io_poll not under uv_run.
        Assert.Contains("not from uv__io_poll", s_rule.Refusal(Main, InEpoll(281), Stack(Libc + 0x100, Callback, IoPoll + 0x10, Run + 0x10)), StringComparison.Ordinal);
        Assert.Contains("not from uv__io_poll", s_rule.Refusal(Main, InEpoll(281), Stack(Libc + 0x100, IoPoll + 0x10, Callback)), StringComparison.Ordinal);
        Assert.Contains("not from uv__io_poll", s_rule.Refusal(Main, InEpoll(281), Stack(Libc + 0x100, IoPoll + 0x10)), StringComparison.Ordinal);
    }

    [Fact]
    public void SignalMask_OnlyANonNullMaskArgumentSwaps()
    {
        // epoll_pwait(epfd, events, n, timeout, sigmask, 8): argument 5; ppoll(fds, n, tmo, sigmask, 8): argument 4.
        Assert.False(SyscallRestart.SwapsSignalMask(281, [3, 0x1000, 1024, 1000, 0, 8]));
        Assert.True(SyscallRestart.SwapsSignalMask(281, [3, 0x1000, 1024, 1000, 0x2000, 8]));
        Assert.False(SyscallRestart.SwapsSignalMask(441, [3, 0x1000, 1024, 0, 0, 8]));
        Assert.False(SyscallRestart.SwapsSignalMask(271, [0x1000, 1, 0, 0, 8, 0]));
        Assert.True(SyscallRestart.SwapsSignalMask(271, [0x1000, 1, 0, 0x2000, 8, 0]));

        // Unknown arguments, a mask inside a struct (pselect6, io_pgetevents) or rt_sigsuspend: always.
        Assert.True(SyscallRestart.SwapsSignalMask(281, []));
        Assert.True(SyscallRestart.SwapsSignalMask(270, [1, 0, 0, 0, 0, 0]));
        Assert.True(SyscallRestart.SwapsSignalMask(130, [0x2000, 8, 0, 0, 0, 0]));
        Assert.False(SyscallRestart.SwapsSignalMask(232, [3, 0x1000, 1024, 1000, 0x2000, 8]));

        // At a stop the registers hold the arguments: r8 is epoll_pwait's mask.
        UserRegs regs = InEpoll(281);
        Assert.Null(SyscallRestart.Refusal(regs));
        regs.R8 = 0x2000;
        Assert.Contains("temporary signal mask", SyscallRestart.Refusal(regs), StringComparison.Ordinal);
    }

    private static UserRegs InEpoll(long nr)
    {
        UserRegs r = default;
        r.OrigRax = (ulong)nr;
        r.Rax = unchecked((ulong)X64CallAbi.ERestartNoHand);
        return r;
    }

    // Frame 0 is the stop's exact pc; the others are return addresses (looked up at pc - 1).
    private static UnwindResult Stack(params ulong[] pcs) =>
        new([.. pcs.Select((pc, i) => new UnwindFrame(pc, 0x7ffd_0000 + (ulong)i * 64, i == 0))], UnwindEndReason.Outermost, null);
}
