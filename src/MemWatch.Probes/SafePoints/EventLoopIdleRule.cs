using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Injection;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.SafePoints;

/// <summary>
/// The safe point for calling into a JavaScript engine (V8's heap statistics): one thread, the isolate's, idle in
/// libuv's event loop. It must be stopped inside an epoll wait whose unwound stack is, innermost first, only libc frames
/// (the system call wrapper; none for a direct <c>syscall</c>), then <c>uv__io_poll</c>, then <c>uv_run</c>. There the
/// loop has finished every callback and waits for the next: no JavaScript, no GC step and no V8 call is on this thread's
/// stack, which is where Node itself calls <c>GetHeapStatistics</c> from (process.memoryUsage runs in a callback of the
/// same loop). Asked in addition to <see cref="SafePointRule"/> (glibc's locks and critical regions), never instead.
/// </summary>
internal sealed class EventLoopIdleRule
{
    // epoll_wait, epoll_pwait, epoll_pwait2 (arch/x86/entry/syscalls/syscall_64.tbl).
    private static readonly long[] s_epollWaits = [232, 281, 441];

    private readonly (ulong Start, ulong End) _ioPoll;
    private readonly (ulong Start, ulong End) _run;
    private readonly IReadOnlyList<(ulong Start, ulong End)> _libc;

    internal EventLoopIdleRule(int isolateThread, (ulong, ulong) ioPoll, (ulong, ulong) run, IReadOnlyList<(ulong Start, ulong End)> libc)
    {
        IsolateThread = isolateThread;
        _ioPoll = ioPoll;
        _run = run;
        _libc = libc;
    }

    /// <summary>The only thread a call may run on.</summary>
    public int IsolateThread { get; }

    /// <summary>
    /// Binds to the module that defines <c>uv__io_poll</c> (a file-local symbol: .symtab or the debug file) and
    /// <c>uv_run</c>, and to libc's code; false with the reason when one is missing (a stripped libuv).
    /// </summary>
    public static bool TryCreate(TargetSymbols symbols, int isolateThread, [NotNullWhen(true)] out EventLoopIdleRule? rule, [NotNullWhen(false)] out string? reason)
    {
        rule = null;
        TargetModule? libc = symbols.FindModule("libc.so.6");
        if (libc is null)
        {
            reason = "no glibc (libc.so.6) is mapped";
            return false;
        }

        foreach (TargetModule m in symbols.Modules)
        {
            if (TargetSymbols.TryResolve(m, "uv__io_poll", out TargetSymbolAddress ioPoll) && ioPoll.Size > 0
                && TargetSymbols.TryResolve(m, "uv_run", out TargetSymbolAddress run) && run.Size > 0)
            {
                rule = new EventLoopIdleRule(isolateThread, (ioPoll.Address, ioPoll.Address + ioPoll.Size), (run.Address, run.Address + run.Size), libc.ExecutableRanges);
                reason = null;
                return true;
            }
        }

        reason = "no module has the symbols uv__io_poll and uv_run (libuv stripped of its .symtab), so the event loop's idle point cannot be recognised";
        return false;
    }

    /// <summary>
    /// Null when thread <paramref name="tid"/>, stopped with <paramref name="regs"/> and unwound to
    /// <paramref name="unwind"/>, is idle in the loop; otherwise why not. With no unwind yet, only the thread and its
    /// system call are checked (the engine asks that first, so a thread running JavaScript is refused as such).
    /// </summary>
    public string? Refusal(int tid, in UserRegs regs, UnwindResult? unwind)
    {
        if (tid != IsolateThread)
        {
            return $"thread {tid} is not the isolate's thread {IsolateThread}";
        }

        long nr = unchecked((long)regs.OrigRax);
        if (Array.IndexOf(s_epollWaits, nr) < 0 || !SyscallRestart.IsInterruptedSyscall(regs))
        {
            return nr < 0
                ? "the isolate's thread is running (JavaScript, a GC step or V8 code), not idle in the event loop"
                : $"the isolate's thread waits in system call {nr}, not in the event loop's epoll wait";
        }

        if (unwind is null)
        {
            return null;
        }

        IReadOnlyList<UnwindFrame> frames = unwind.Frames;
        int i = 0;
        while (i < frames.Count && InAny(_libc, frames[i].LookupPc))
        {
            i++;
        }

        if (i + 1 >= frames.Count || !In(_ioPoll, frames[i].LookupPc) || !In(_run, frames[i + 1].LookupPc))
        {
            return $"the isolate's thread waits in epoll but not from uv__io_poll called by uv_run (frame #{i} at 0x{(i < frames.Count ? frames[i].Pc : 0):x}), so V8 may be on its stack";
        }

        return null;
    }

    private static bool In((ulong Start, ulong End) range, ulong pc) => pc >= range.Start && pc < range.End;

    private static bool InAny(IReadOnlyList<(ulong Start, ulong End)> ranges, ulong pc)
    {
        foreach ((ulong Start, ulong End) r in ranges)
        {
            if (In(r, pc))
            {
                return true;
            }
        }

        return false;
    }
}
