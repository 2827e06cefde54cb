using System.Diagnostics;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Unwinding;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Probes.Injection;

/// <summary>
/// What happens to a callee that outlived its timeout: rolled back when the safe-point rule proves it holds no lock
/// (<see cref="SafePointRule.CheckRollback"/>), otherwise released inside the callee, which restores the thread itself
/// through rt_sigreturn when it returns; the thread is then refused until it has (<see cref="ThreadSeizer.Abandon"/>).
/// </summary>
internal sealed class CallRollback(
    PtraceCallRunner runner, ThreadSeizer seizer, RemoteCallOptions options, X64ReturnPath path, SafePointRule rule, LiveProcessMemory memory, Action requestTracerExit)
{
    private readonly PtraceCallRunner _runner = runner;
    private readonly ThreadSeizer _seizer = seizer;
    private readonly RemoteCallOptions _options = options;
    private readonly X64ReturnPath _path = path;
    private readonly SafePointRule _rule = rule;
    private readonly LiveProcessMemory _memory = memory;
    private readonly Action _requestTracerExit = requestTracerExit;

    private int Pid => _runner.Pid;

    /// <summary>
    /// The callee outlived its timeout. Stop it; if it returned meanwhile, finish normally. If the safe-point rule proves it
    /// holds no lock where it stopped, roll the thread back (registers, mask, xstate: the frame is dead stack) and release
    /// it. Otherwise release it inside the callee, which restores the thread through rt_sigreturn when it returns, and say so.
    /// </summary>
    public RemoteCallResult OnTimeout(CallState call, X64CallFrame frame, TimeSpan timeout)
    {
        int tid = call.Tid;
        Libc.Ptrace(Libc.PTRACE_INTERRUPT, tid, 0, 0);
        PtraceWait w = PtraceWait.Next(tid, Stopwatch.GetTimestamp() + (long)(_options.StopTimeout.TotalSeconds * Stopwatch.Frequency));
        if (w.Kind == PtraceWaitKind.Exited)
        {
            throw _runner.ExitedDuringCall(tid, call.Function);
        }

        // A syscall stop of the callee came first, and any ptrace trap clears a pending PTRACE_INTERRUPT (ptrace_stop):
        // interrupt again and move on to the stop inside get_signal.
        while (w.IsSyscallStop && !(Libc.PtraceGetRegs(tid, out UserRegs at) >= 0 && X64CallAbi.IsReturnStop(at, frame, _path)))
        {
            Libc.Ptrace(Libc.PTRACE_INTERRUPT, tid, 0, 0);
            Libc.Ptrace(Libc.PTRACE_CONT, tid, 0, 0);
            w = PtraceWait.Next(tid, Stopwatch.GetTimestamp() + (long)(_options.StopTimeout.TotalSeconds * Stopwatch.Frequency));
        }

        if (w.Kind == PtraceWaitKind.Exited)
        {
            throw _runner.ExitedDuringCall(tid, call.Function);
        }

        string why;
        if (w.Kind == PtraceWaitKind.TimedOut)
        {
            // The kernel detaches every tracee of a tracer thread that exits.
            _requestTracerExit();
            why = "it did not stop within the stop timeout";
        }
        else if (Libc.PtraceGetRegs(tid, out UserRegs now) < 0)
        {
            why = "its registers could not be read";
            ThreadSeizer.Detach(tid, 0);
        }
        else if (w.IsSyscallStop && X64CallAbi.IsReturnStop(now, frame, _path))
        {
            return _runner.Finish(call, frame, now);
        }
        else if (now.Rsp == call.Saved.Rsp && now.Rip == X64CallAbi.WithRestartApplied(call.Saved).Rip)
        {
            // The callee returned and the frame's rt_sigreturn already restored the thread: release it as after a call.
            PtraceCallRunner.Restore(call);
            ThreadSeizer.Detach(tid, 0);
            throw new RemoteCallException(RemoteCallFailure.Timeout,
                $"the callee 0x{call.Function:x} returned after its {timeout.TotalMilliseconds:0} ms timeout; thread {tid} of process {Pid} was restored and released, the result is lost");
        }
        else
        {
            _memory.Reset();
            SafePointVerdict verdict = w.IsEventStop
                ? _rule.CheckRollback(tid, now, _memory, call.Function, _options.LockStepCallees, _path.Capture, frame.EntryRsp + 8)
                : SafePointVerdict.Unsafe("it stopped outside get_signal");
            if (verdict.IsSafe && PtraceCallRunner.Restore(call))
            {
                ThreadSeizer.Detach(tid, 0);
                throw new RemoteCallException(
                    RemoteCallFailure.Timeout,
                    $"the callee 0x{call.Function:x} did not return within {timeout.TotalMilliseconds:0} ms; it was waiting for a lock and held none, " +
                    $"so thread {tid} of process {Pid} was restored and released (rolled back); the result is lost");
            }

            why = verdict.IsSafe ? "the rollback could not be written" : verdict.Reason;
            ThreadSeizer.Detach(tid, w.IsSignalStop ? w.Signal : 0);
        }

        _seizer.Abandon(tid, frame.ScratchAddress + (ulong)call.Scratch.Length);
        throw new RemoteCallException(
            RemoteCallFailure.Timeout,
            $"the callee 0x{call.Function:x} did not return within {timeout.TotalMilliseconds:0} ms and could not be rolled back ({why}); thread {tid} of process {Pid} " +
            "was released inside it and restores its registers, signal mask and FPU state itself (rt_sigreturn) when it returns; the result is lost")
        {
            LeftInCallee = true,
        };
    }
}
