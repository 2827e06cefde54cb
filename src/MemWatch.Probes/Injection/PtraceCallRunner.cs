using System.Diagnostics;
using System.Runtime.InteropServices;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Unwinding;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Probes.Injection;

/// <summary>
/// Runs one call on a thread <see cref="ThreadSeizer"/> stopped and found safe: saves its XSAVE state and signal mask,
/// writes the <see cref="X64CallAbi.BuildFrame">rt_sigframe and call frame</see>, holds signals back, runs the callee with
/// PTRACE_SYSCALL until its return stops at the restorer's rt_sigreturn, lets that run, and at its exit stop puts back
/// the first stop's registers (rt_sigreturn has put back mask and FPU state) and detaches. A callee that outlives its
/// timeout goes to <see cref="CallRollback"/>.
/// </summary>
internal sealed class PtraceCallRunner
{
    /// <summary>Room for the XSAVE image (also reserved on the target's stack, inside the call frame).</summary>
    public const int XstateBufferBytes = 16 * 1024;

    private const long Enosys = -38;

    private const int SigSys = 31;

    // Every signal but the synchronous faults: the kernel resets the handler of a fault signal that is blocked when it is
    // forced (force_sig_info_to_task), so blocking SIGSEGV during a callee that faults would kill the target.
    private const ulong HeldBackSignals = ~((1UL << (Libc.SIGILL - 1)) | (1UL << (Libc.SIGTRAP - 1)) | (1UL << (Libc.SIGBUS - 1))
        | (1UL << (Libc.SIGFPE - 1)) | (1UL << (Libc.SIGSEGV - 1)) | (1UL << (SigSys - 1)));

    private readonly RemoteCallOptions _options;
    private readonly X64ReturnPath _path;
    private readonly CallTimeline _timeline;
    private readonly Action _requestTracerExit;
    private readonly CallRollback _rollback;
    private readonly byte[] _xstate = new byte[XstateBufferBytes];

    // requestTracerExit makes the tracer thread end after this call: the kernel then detaches a thread that would not stop.
    public PtraceCallRunner(int pid, RemoteCallOptions options, X64ReturnPath path, CallTimeline timeline, Action requestTracerExit, ThreadSeizer seizer,
        SafePointRule rule, LiveProcessMemory memory)
    {
        Pid = pid;
        _options = options;
        _path = path;
        _timeline = timeline;
        _requestTracerExit = requestTracerExit;
        _rollback = new CallRollback(this, seizer, options, path, rule, memory, requestTracerExit);
    }

    public int Pid { get; }

    public RemoteCallResult Run(int tid, UserRegs saved, long stopRequested, ulong function, RemoteArg[] args, byte[] scratch, TimeSpan timeout, bool filtered)
    {
        long xlen = Libc.PtraceGetRegSet(tid, Libc.NT_X86_XSTATE, _xstate);
        if (xlen < X64CallAbi.MinXstateSize || Libc.PtraceGetSigMask(tid, out ulong mask) < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            ThreadSeizer.Detach(tid, 0);
            throw new RemoteCallException(RemoteCallFailure.Unsupported, $"PTRACE_GETREGSET NT_X86_XSTATE or PTRACE_GETSIGMASK on thread {tid} failed (result {xlen}, errno {e})");
        }

        byte[] xstate = _xstate.AsSpan(0, (int)xlen).ToArray();
        var call = new CallState(tid, saved, xstate, mask, function, stopRequested, scratch);
        X64CallFrame frame = X64CallAbi.BuildFrame(saved, xstate, mask, scratch.Length, _path);
        scratch.CopyTo(frame.Bytes.AsSpan(frame.ScratchOffset));
        Span<ulong> values = stackalloc ulong[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            values[i] = args[i].IsScratchOffset ? frame.ScratchAddress + args[i].Value : args[i].Value;
        }

        UserRegs callRegs = X64CallAbi.CallRegisters(saved, frame, _path, function, values);

        // The frame lies below rsp and the red zone: dead stack, so nothing needs restoring there afterwards.
        if (Libc.WriteProcessMemory(Pid, frame.WriteAddress, frame.Bytes) != frame.Bytes.Length)
        {
            int e = Marshal.GetLastPInvokeError();
            ThreadSeizer.Detach(tid, 0);
            throw new RemoteCallException(
                RemoteCallFailure.NotSafe,
                $"could not write the {frame.Bytes.Length}-byte call frame at 0x{frame.WriteAddress:x} on thread {tid}'s stack (errno {e})");
        }

        // Signals wait until the call is over: a handler must not run while the callee holds an allocator lock. They stay
        // pending (a process-directed one goes to another thread) and rt_sigreturn puts the frame's mask back.
        if (Libc.PtraceSetRegs(tid, callRegs) < 0 || Libc.PtraceSetSigMask(tid, HeldBackSignals | mask) < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            Libc.PtraceSetRegs(tid, saved);
            ThreadSeizer.Detach(tid, 0);
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"PTRACE_SETREGS or PTRACE_SETSIGMASK on thread {tid} failed (errno {e})");
        }

        call.Resumed = Stopwatch.GetTimestamp();
        _timeline.Set(CallTimeline.Resumed, call.Resumed);
        Libc.Ptrace(Libc.PTRACE_SYSCALL, tid, 0, 0);
        long deadline = call.Resumed + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long uncovered = -1;
        while (true)
        {
            PtraceWait w = PtraceWait.Next(tid, deadline);
            switch (w.Kind)
            {
                case PtraceWaitKind.Exited:
                    throw ExitedDuringCall(tid, function);
                case PtraceWaitKind.TimedOut:
                    return _rollback.OnTimeout(call, frame, timeout);
            }

            if (w.IsSyscallStop)
            {
                if (Libc.PtraceGetRegs(tid, out UserRegs now) < 0)
                {
                    continue; // the thread is dying; the next wait reports it
                }

                if (X64CallAbi.IsReturnStop(now, frame, _path))
                {
                    RemoteCallResult result = Finish(call, frame, now);
                    return uncovered < 0 ? result : throw new RemoteCallException(RemoteCallFailure.CalleeFault,
                        $"the callee 0x{function:x} made system call {uncovered}, which the seccomp proof did not cover; the thread was restored");
                }

                if (filtered && unchecked((long)now.Rax) == Enosys && !SeccompGate.IsCovered(unchecked((long)now.OrigRax)))
                {
                    uncovered = unchecked((long)now.OrigRax);
                }

                Libc.Ptrace(Libc.PTRACE_SYSCALL, tid, 0, 0);
            }
            else if (w.IsEventStop)
            {
                // A group-stop or a late PTRACE_INTERRUPT stop: let the callee finish (it may hold a lock);
                // after the detach the kernel puts the thread into the group-stop if it is still in effect.
                Libc.Ptrace(Libc.PTRACE_SYSCALL, tid, 0, 0);
            }
            else
            {
                int signal = w.Signal;
                Libc.PtraceGetSigInfo(tid, out _, out int code, out ulong faultAddress);
                if (IsSynchronousFault(signal, code))
                {
                    // Put the thread back where it was and let it take the signal there: its own handler decides. The
                    // system call is re-issued after the handler, as after the frame's rt_sigreturn: the fault was ours,
                    // so the call it interrupted must not fail with EINTR.
                    Restore(call, X64CallAbi.WithRestartApplied(call.Saved));
                    Libc.Ptrace(Libc.PTRACE_DETACH, tid, 0, signal);
                    throw new RemoteCallException(
                        RemoteCallFailure.CalleeFault,
                        $"the callee 0x{function:x} in process {Pid} took signal {signal} (si_code {code}, address 0x{faultAddress:x}); the thread was restored and the signal handed to the process");
                }

                Libc.Ptrace(Libc.PTRACE_SYSCALL, tid, 0, signal);
            }
        }
    }

    /// <summary>
    /// At the restorer's rt_sigreturn entry: reads the result, lets rt_sigreturn run to its exit stop, and there restores the
    /// first stop's registers and releases the thread. rt_sigreturn
    /// has put back the signal mask and FPU state from the frame; they are written again too when the frame no longer
    /// held what was written (a callee that wrote below its scratch block: the frame is rewritten first) or rt_sigreturn
    /// refused it.
    /// </summary>
    public RemoteCallResult Finish(CallState call, X64CallFrame frame, in UserRegs atReturn)
    {
        long returned = Stopwatch.GetTimestamp();
        int tid = call.Tid;
        // The ucontext and fpstate rt_sigreturn is about to read, the result slot and the scratch block, in one read. A
        // callee that wrote below its buffer changed the frame: it is written again before rt_sigreturn reads it, which
        // would otherwise restore what the callee left, or refuse the frame with a SIGSEGV (and reset the handler if the
        // mask it read blocked that signal).
        int readLength = checked((int)(frame.ScratchAddress + (ulong)call.Scratch.Length - frame.ReturnRsp));
        int slotAt = (int)(frame.ResultSlotAddress - frame.ReturnRsp);
        byte[] back = new byte[readLength];
        bool readOk = Libc.ReadProcessMemory(Pid, frame.ReturnRsp, back) == readLength;
        int written = (int)(frame.ReturnRsp - frame.WriteAddress);
        ReadOnlySpan<byte> consumed = frame.Bytes.AsSpan(written, slotAt);
        bool frameIntact = readOk && back.AsSpan(0, slotAt).SequenceEqual(consumed);
        if (!frameIntact)
        {
            Libc.WriteProcessMemory(Pid, frame.ReturnRsp, consumed);
        }

        // rt_sigreturn runs and the thread stops at its exit, before any signal is handled: there the first stop's registers
        // go back, and the detach sets TIF_SIGPENDING, so on its way out the kernel restarts the interrupted system call
        // or completes it with EINTR for a signal now pending, as it would have at the first stop (arch_do_signal_or_restart).
        Libc.Ptrace(Libc.PTRACE_SYSCALL, tid, 0, 0);
        long deadline = Stopwatch.GetTimestamp() + (long)(_options.StopTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            PtraceWait w = PtraceWait.Next(tid, deadline);
            if (w.Kind == PtraceWaitKind.Exited)
            {
                throw ExitedDuringCall(tid, call.Function);
            }

            if (w.Kind == PtraceWaitKind.TimedOut)
            {
                // rt_sigreturn has run: the thread is whole. The kernel detaches it when the tracer thread ends.
                _requestTracerExit();
                throw new RemoteCallException(RemoteCallFailure.Timeout,
                    $"thread {tid} of process {Pid} did not stop after the call returned; it was restored by rt_sigreturn and is released");
            }

            if (w.IsSyscallStop || (w.IsSignalStop && w.Signal == Libc.SIGSEGV))
            {
                // rt_sigreturn's exit stop; or it refused the frame, which no handler must see.
                frameIntact &= w.IsSyscallStop;
                break;
            }

            Libc.Ptrace(Libc.PTRACE_SYSCALL, tid, 0, w.IsSignalStop ? w.Signal : 0);
        }

        _timeline.Mark(CallTimeline.StoppedAgain);
        bool restored = frameIntact ? Libc.PtraceSetRegs(tid, SyscallRestart.ForRelease(call.Saved)) >= 0 : Restore(call);
        _timeline.Mark(CallTimeline.Restored);
        ThreadSeizer.Detach(tid, 0);
        long released = Stopwatch.GetTimestamp();
        _timeline.Set(CallTimeline.Returned, returned);
        _timeline.Set(CallTimeline.Released, released);
        if (!restored)
        {
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"thread {tid} of process {Pid} could not be restored by ptrace after the call");
        }

        if (!readOk)
        {
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"the result of the call could not be read back from process {Pid}");
        }

        back.AsSpan((int)(frame.ScratchAddress - frame.ReturnRsp), call.Scratch.Length).CopyTo(call.Scratch);
        ulong value = X64CallAbi.ReturnValue(atReturn, _path, back.AsSpan(slotAt, 8));
        return new RemoteCallResult(value, Microseconds(released - call.StopRequested), Microseconds(returned - call.Resumed)) { Phases = _timeline.Phases() };
    }

    /// <summary>Puts back the xstate, the signal mask and the registers of the first stop (see <see cref="SyscallRestart.ForRelease"/>).</summary>
    public static bool Restore(CallState call) => Restore(call, SyscallRestart.ForRelease(call.Saved));

    public static bool Restore(CallState call, in UserRegs regs) =>
        Libc.PtraceSetRegSet(call.Tid, Libc.NT_X86_XSTATE, call.Xstate) >= 0
        & Libc.PtraceSetSigMask(call.Tid, call.Mask) >= 0
        & Libc.PtraceSetRegs(call.Tid, regs) >= 0;

    public RemoteCallException ExitedDuringCall(int tid, ulong function) =>
        new(RemoteCallFailure.ProcessExited, $"process {Pid} (thread {tid}) exited or ran exec during the call to 0x{function:x}");

    private static bool IsSynchronousFault(int signal, int code) =>
        code > 0 && signal is Libc.SIGSEGV or Libc.SIGBUS or Libc.SIGILL or Libc.SIGFPE or Libc.SIGTRAP;

    private static long Microseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;
}
