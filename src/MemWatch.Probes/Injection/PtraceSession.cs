using System.Diagnostics;
using System.Runtime.InteropServices;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Probes.Injection;

/// <summary>
/// The x86_64 ptrace implementation of <see cref="IRemoteCallSession"/>. Each call seizes one thread
/// (PTRACE_SEIZE + PTRACE_INTERRUPT), checks it is at a safe point, holds its signals back, runs the callee with
/// PTRACE_SYSCALL so the return is caught at the restorer's rt_sigreturn entry, lets that rt_sigreturn run (no system
/// call is ever rewritten: the kernel evaluates a seccomp filter only on calls the thread's own code makes), stops the
/// thread again inside get_signal, puts back the registers of the first stop and detaches: the kernel then restarts or
/// completes the interrupted system call itself. Between calls no thread is traced. If MemWatch dies mid-call, the
/// callee's return runs rt_sigreturn on the frame built by <see cref="X64CallAbi.BuildFrame"/> and the thread restores
/// itself and re-issues its system call.
/// </summary>
/// <remarks>
/// Not a hardware breakpoint on the restorer: ptrace debug registers are perf events of the tracee that the kernel
/// drops only at its exec or exit (flush_ptrace_hw_breakpoint from flush_thread/do_exit), not at detach or when the
/// tracer dies, so an armed one would SIGTRAP-kill the target after a MemWatch crash. PTRACE_SYSCALL arms nothing
/// that survives the tracer; it costs two stops per system call the callee makes.
/// </remarks>
internal sealed class PtraceSession : IRemoteCallSession
{
    private const int XstateBufferBytes = 16 * 1024;
    private const long Enosys = -38;

    // Every signal but the synchronous faults: the kernel resets the handler of a fault signal that is blocked when it is
    // forced (force_sig_info_to_task), so blocking SIGSEGV during a callee that faults would kill the target.
    private const ulong HeldBackSignals = ~((1UL << (Libc.SIGILL - 1)) | (1UL << (Libc.SIGTRAP - 1)) | (1UL << (Libc.SIGBUS - 1))
        | (1UL << (Libc.SIGFPE - 1)) | (1UL << (Libc.SIGSEGV - 1)) | (1UL << (SigSys - 1)));

    private const int SigSys = 31;

    private readonly RemoteCallOptions _options;
    private readonly ProcFileSystem _fs;
    private readonly X64ReturnPath _path;
    private readonly ulong _startTimeTicks;
    private readonly SafePointRule _rule;
    private readonly LiveProcessMemory _memory;
    private readonly ThreadCandidates _candidates;
    private readonly byte[] _xstate = new byte[XstateBufferBytes];
    private readonly FileBuffer _buffer = new(8 * 1024);
    private readonly Lock _callLock = new();
    private readonly Dictionary<int, ulong> _abandonedFrameTops = [];
    private PtraceThread _thread;
    private int _tid;
    private bool _disposed;

    private PtraceSession(int pid, RemoteCallOptions options, X64ReturnPath path, ulong startTimeTicks, SafePointRule rule, LiveProcessMemory memory)
    {
        Pid = pid;
        _options = options;
        _fs = options.ProcFileSystem;
        _path = path;
        _startTimeTicks = startTimeTicks;
        _rule = rule;
        _memory = memory;
        _candidates = new ThreadCandidates(_fs, pid);
        _thread = new PtraceThread($"ptrace {pid}");
    }

    public int Pid { get; }

    public int Tid => Volatile.Read(ref _tid);

    internal X64ReturnPath ReturnPath => _path;

    internal static PtraceSession Open(int pid, RemoteCallOptions options)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            throw new RemoteCallException(RemoteCallFailure.Unsupported, $"remote calls need Linux on x86_64, not {RuntimeInformation.ProcessArchitecture}");
        }

        if (pid == Environment.ProcessId || pid <= 0)
        {
            throw new RemoteCallException(RemoteCallFailure.Unsupported, $"process {pid} cannot be traced by itself");
        }

        if (!TargetLock.TryAcquire(pid))
        {
            throw new RemoteCallException(RemoteCallFailure.Busy, $"another remote-call session into process {pid} is open in this process");
        }

        PtraceSession? session = null;
        try
        {
            var buffer = new FileBuffer(16 * 1024);
            ulong startTime = TargetProcess.CheckTraceable(options, pid, buffer);
            if (!TargetMaps.TryRead(options.ProcFileSystem, pid, buffer, out TargetMaps? maps))
            {
                throw TargetProcess.Exited(pid);
            }

            X64ReturnPath path = X64ReturnPathFinder.Find(pid, maps)
                ?? throw (TargetProcess.IsGone(options.ProcFileSystem, pid) || TargetProcess.IsStartingProgram(maps) ? TargetProcess.Exited(pid) : new RemoteCallException(
                    RemoteCallFailure.Unsupported,
                    $"process {pid}: no rt_sigreturn restorer (48 c7 c0 0f 00 00 00 0f 05) or no 'mov %rax,..; ret' capture sequence in its executable mappings, so a call could not restore the thread if MemWatch died"));
            // The safe-point rule's tables (CFI, critical regions, lock words) come from the symbols read after the start
            // time was fixed; CFI tables are cached process-wide by file identity, so only the first session pays to parse them.
            TargetSymbols symbols = options.Symbols is { } known && known.Pid == pid ? known
                : TargetSymbols.TryLoad(options.ProcFileSystem, pid, buffer, out TargetSymbols? read) ? read
                : throw TargetProcess.Exited(pid);
            var memory = new LiveProcessMemory(pid);
            SafePointRule rule = SafePointRule.Create(options.ProcFileSystem, symbols, memory, options.ForbiddenRanges);
            session = new PtraceSession(pid, options, path, startTime, rule, memory);
            session._thread.Invoke(session.Probe);
            return session;
        }
        catch
        {
            if (session is not null)
            {
                session.Dispose();
            }
            else
            {
                TargetLock.Release(pid);
            }

            throw;
        }
    }

    public RemoteCallResult Call(ulong function, ReadOnlySpan<RemoteArg> args, Span<byte> scratch, TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (args.Length > X64CallAbi.MaxArguments)
        {
            throw new ArgumentException($"at most {X64CallAbi.MaxArguments} arguments", nameof(args));
        }

        if (scratch.Length > _options.MaxScratchBytes)
        {
            throw new ArgumentException($"scratch block of {scratch.Length} bytes exceeds {_options.MaxScratchBytes}", nameof(scratch));
        }

        foreach (RemoteArg a in args)
        {
            if (a.IsScratchOffset && a.Value > (ulong)scratch.Length)
            {
                throw new ArgumentException($"scratch offset {a.Value} is outside the {scratch.Length}-byte block", nameof(args));
            }
        }

        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), "the timeout must be positive");
        }

        if (!_callLock.TryEnter())
        {
            throw new RemoteCallException(RemoteCallFailure.Busy, $"a call into process {Pid} is already running in this session");
        }

        try
        {
            RemoteArg[] argArray = args.ToArray();
            byte[] scratchCopy = scratch.ToArray();
            if (!_thread.IsAlive)
            {
                _thread.Dispose();
                _thread = new PtraceThread($"ptrace {Pid}");
            }

            RemoteCallResult result = _thread.Invoke(() => CallOnTracerThread(function, argArray, scratchCopy, timeout));
            scratchCopy.CopyTo(scratch);
            return result;
        }
        finally
        {
            _callLock.Exit();
        }
    }

    public void ReadMemory(ulong address, Span<byte> destination)
    {
        long n = Libc.ReadProcessMemory(Pid, address, destination);
        if (n == destination.Length)
        {
            return;
        }

        try
        {
            using var mem = File.OpenHandle(_fs.ProcessPath(Pid, "mem"), FileMode.Open, FileAccess.Read);
            if (RandomAccess.Read(mem, destination, (long)address) == destination.Length)
            {
                return;
            }
        }
        catch (Exception e) when (FileBuffer.IsGone(e))
        {
            throw TargetProcess.Exited(Pid);
        }
        catch (IOException)
        {
            // Unmapped range: reported below.
        }

        throw new IOException($"cannot read {destination.Length} bytes at 0x{address:x} in process {Pid}");
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _thread.Dispose();
        TargetLock.Release(Pid);
    }

    /// <summary>Open's proof that ptrace works: seize, stop and release one thread.</summary>
    private int Probe()
    {
        List<int> candidates = _candidates.Rank(0, out string? whyNone);
        foreach (int tid in candidates)
        {
            if (TryAttach(tid))
            {
                Detach(tid, 0);
                Volatile.Write(ref _tid, tid);
                return tid;
            }
        }

        throw candidates.Count == 0 && ProcessAlive()
            ? new RemoteCallException(RemoteCallFailure.NotSafe, $"process {Pid}: {whyNone}")
            : TargetProcess.Exited(Pid);
    }

    private RemoteCallResult CallOnTracerThread(ulong function, RemoteArg[] args, byte[] scratch, TimeSpan timeout)
    {
        string lastReason = "";
        long delayUs = Math.Max(1, (long)_options.InitialRetryDelay.TotalMicroseconds);
        int attempts = Math.Max(1, _options.MaxSafetyAttempts);
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            if (attempt > 0)
            {
                Libc.SleepMicroseconds(delayUs);
                delayUs = Math.Min(delayUs * 2, 200_000);
            }

            List<int> candidates = Candidates(out string? whyNone);
            if (candidates.Count == 0)
            {
                lastReason = whyNone!;
                continue;
            }

            int tid = candidates[attempt % candidates.Count];
            if (!TargetMaps.TryRead(_fs, Pid, _buffer, out TargetMaps? maps))
            {
                throw TargetProcess.Exited(Pid);
            }

            CheckCode(maps, function);
            long stopRequested = Stopwatch.GetTimestamp();
            if (!TryAttach(tid))
            {
                lastReason = $"thread {tid} exited";
                continue;
            }

            VerifyIdentity(tid);
            if (Libc.PtraceGetRegs(tid, out UserRegs saved) < 0)
            {
                Detach(tid, 0);
                lastReason = $"thread {tid}: PTRACE_GETREGS failed (errno {Marshal.GetLastPInvokeError()})";
                continue;
            }

            string? unsafeReason = Refusal(tid, saved, maps, scratch.Length, out bool filtered);
            if (unsafeReason is not null)
            {
                Detach(tid, 0);
                lastReason = $"thread {tid}: {unsafeReason}";
                continue;
            }

            Volatile.Write(ref _tid, tid);
            return RunCall(tid, saved, stopRequested, function, args, scratch, timeout, filtered);
        }

        throw new RemoteCallException(
            RemoteCallFailure.NotSafe,
            $"no thread of process {Pid} was at a safe point in {attempts} tries; last: {lastReason}");
    }

    /// <summary>Null when the stopped thread may run a call; otherwise why not. The safe-point rule is asked here, and only here.</summary>
    private string? Refusal(int tid, in UserRegs regs, TargetMaps maps, int scratchLength, out bool filtered)
    {
        filtered = false;
        if (SyscallRestart.Refusal(regs) is string syscall)
        {
            return syscall;
        }

        if (_abandonedFrameTops.TryGetValue(tid, out ulong frameTop))
        {
            if (regs.Rsp < frameTop)
            {
                return $"still running a call abandoned after a timeout (rsp 0x{regs.Rsp:x} below its frame top 0x{frameTop:x})";
            }

            _abandonedFrameTops.Remove(tid);
        }

        int seccomp;
        try
        {
            seccomp = ProcStatus.TryReadThread(_fs, Pid, tid, _buffer, out ProcStatus? status) ? status.Seccomp ?? 0 : 0;
        }
        catch (ProcParseException e)
        {
            return $"its status is unreadable ({e.Message})";
        }

        filtered = seccomp != 0;
        if (SeccompGate.Check(tid, seccomp) is string filter)
        {
            return filter;
        }

        // The stack the frame goes on, every frame of the unwound stack, and the lock words, read while the thread is stopped.
        ulong needed = (ulong)(scratchLength + XstateBufferBytes + _options.MinimumStackHeadroomBytes);
        _memory.Reset();
        SafePointVerdict verdict = _rule.Check(tid, regs, maps, _memory, needed, _candidates.CountThreads());
        return verdict.IsSafe ? null : verdict.Reason;
    }

    private RemoteCallResult RunCall(int tid, UserRegs saved, long stopRequested, ulong function, RemoteArg[] args, byte[] scratch, TimeSpan timeout, bool filtered)
    {
        long xlen = Libc.PtraceGetRegSet(tid, Libc.NT_X86_XSTATE, _xstate);
        if (xlen < X64CallAbi.MinXstateSize || Libc.PtraceGetSigMask(tid, out ulong mask) < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            Detach(tid, 0);
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
            Detach(tid, 0);
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
            Detach(tid, 0);
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"PTRACE_SETREGS or PTRACE_SETSIGMASK on thread {tid} failed (errno {e})");
        }

        call.Resumed = Stopwatch.GetTimestamp();
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
                    return OnTimeout(call, frame, timeout);
            }

            if (w.IsSyscallStop)
            {
                if (Libc.PtraceGetRegs(tid, out UserRegs now) < 0)
                {
                    continue; // the thread is dying; the next wait reports it
                }

                if (X64CallAbi.IsReturnStop(now, frame, _path))
                {
                    RemoteCallResult result = Finish(call, frame);
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
    /// At the restorer's rt_sigreturn entry: reads the result, lets rt_sigreturn run with a PTRACE_INTERRUPT pending so the
    /// thread stops again inside get_signal, and there restores the first stop's registers and releases it.
    /// </summary>
    private RemoteCallResult Finish(CallState call, X64CallFrame frame)
    {
        long returned = Stopwatch.GetTimestamp();
        int tid = call.Tid;
        int readLength = checked((int)(frame.ScratchAddress + (ulong)call.Scratch.Length - frame.ResultSlotAddress));
        byte[] back = new byte[readLength];
        bool readOk = Libc.ReadProcessMemory(Pid, frame.ResultSlotAddress, back) == readLength;
        Libc.PtraceGetRegs(tid, out UserRegs atReturn);

        Libc.Ptrace(Libc.PTRACE_INTERRUPT, tid, 0, 0);
        Libc.Ptrace(Libc.PTRACE_CONT, tid, 0, 0);
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
                _thread.ExitRequested = true;
                throw new RemoteCallException(RemoteCallFailure.Timeout,
                    $"thread {tid} of process {Pid} did not stop after the call returned; it was restored by rt_sigreturn and is released");
            }

            if (w.IsEventStop || (w.IsSignalStop && w.Signal == Libc.SIGSEGV))
            {
                // An event stop inside get_signal; or rt_sigreturn refused the frame, which no handler must see.
                break;
            }

            Libc.Ptrace(Libc.PTRACE_CONT, tid, 0, w.IsSignalStop ? w.Signal : 0);
        }

        bool restored = Restore(call);
        Detach(tid, 0);
        long released = Stopwatch.GetTimestamp();
        if (!restored)
        {
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"thread {tid} of process {Pid} could not be restored by ptrace after the call");
        }

        if (!readOk)
        {
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"the result of the call could not be read back from process {Pid}");
        }

        back.AsSpan((int)(frame.ScratchAddress - frame.ResultSlotAddress), call.Scratch.Length).CopyTo(call.Scratch);
        ulong value = X64CallAbi.ReturnValue(atReturn, _path, back.AsSpan(0, 8));
        return new RemoteCallResult(value, Microseconds(released - call.StopRequested), Microseconds(returned - call.Resumed));
    }

    /// <summary>Puts back the xstate, the signal mask and the registers of the first stop (see <see cref="SyscallRestart.ForRelease"/>).</summary>
    private static bool Restore(CallState call) => Restore(call, SyscallRestart.ForRelease(call.Saved));

    private static bool Restore(CallState call, in UserRegs regs) =>
        Libc.PtraceSetRegSet(call.Tid, Libc.NT_X86_XSTATE, call.Xstate) >= 0
        & Libc.PtraceSetSigMask(call.Tid, call.Mask) >= 0
        & Libc.PtraceSetRegs(call.Tid, regs) >= 0;

    /// <summary>
    /// The callee outlived its timeout. Stop it; if it returned meanwhile, finish normally. If the safe-point rule proves it
    /// holds no lock where it stopped, roll the thread back (registers, mask, xstate: the frame is dead stack) and release
    /// it. Otherwise release it inside the callee, which restores the thread through rt_sigreturn when it returns, and say so.
    /// </summary>
    private RemoteCallResult OnTimeout(CallState call, X64CallFrame frame, TimeSpan timeout)
    {
        int tid = call.Tid;
        Libc.Ptrace(Libc.PTRACE_INTERRUPT, tid, 0, 0);
        PtraceWait w = PtraceWait.Next(tid, Stopwatch.GetTimestamp() + (long)(_options.StopTimeout.TotalSeconds * Stopwatch.Frequency));
        if (w.Kind == PtraceWaitKind.Exited)
        {
            throw ExitedDuringCall(tid, call.Function);
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
            throw ExitedDuringCall(tid, call.Function);
        }

        string why;
        if (w.Kind == PtraceWaitKind.TimedOut)
        {
            // The kernel detaches every tracee of a tracer thread that exits.
            _thread.ExitRequested = true;
            why = "it did not stop within the stop timeout";
        }
        else if (Libc.PtraceGetRegs(tid, out UserRegs now) < 0)
        {
            why = "its registers could not be read";
            Detach(tid, 0);
        }
        else if (w.IsSyscallStop && X64CallAbi.IsReturnStop(now, frame, _path))
        {
            return Finish(call, frame);
        }
        else if (now.Rsp == call.Saved.Rsp && now.Rip == X64CallAbi.WithRestartApplied(call.Saved).Rip)
        {
            // The callee returned and the frame's rt_sigreturn already restored the thread: release it as after a call.
            Restore(call);
            Detach(tid, 0);
            throw new RemoteCallException(RemoteCallFailure.Timeout,
                $"the callee 0x{call.Function:x} returned after its {timeout.TotalMilliseconds:0} ms timeout; thread {tid} of process {Pid} was restored and released, the result is lost");
        }
        else
        {
            _memory.Reset();
            SafePointVerdict verdict = w.IsEventStop
                ? _rule.CheckRollback(tid, now, _memory, call.Function, _options.LockStepCallees, _path.Capture, frame.EntryRsp + 8)
                : SafePointVerdict.Unsafe("it stopped outside get_signal");
            if (verdict.IsSafe && Restore(call))
            {
                Detach(tid, 0);
                throw new RemoteCallException(
                    RemoteCallFailure.Timeout,
                    $"the callee 0x{call.Function:x} did not return within {timeout.TotalMilliseconds:0} ms; it was waiting for a lock and held none, " +
                    $"so thread {tid} of process {Pid} was restored and released (rolled back); the result is lost");
            }

            why = verdict.IsSafe ? "the rollback could not be written" : verdict.Reason;
            Detach(tid, w.IsSignalStop ? w.Signal : 0);
        }

        _abandonedFrameTops[tid] = frame.ScratchAddress + (ulong)call.Scratch.Length;
        throw new RemoteCallException(
            RemoteCallFailure.Timeout,
            $"the callee 0x{call.Function:x} did not return within {timeout.TotalMilliseconds:0} ms and could not be rolled back ({why}); thread {tid} of process {Pid} " +
            "was released inside it and restores its registers, signal mask and FPU state itself (rt_sigreturn) when it returns; the result is lost")
        {
            LeftInCallee = true,
        };
    }

    /// <summary>
    /// After PTRACE_SEIZE the thread cannot change hands: check it belongs to the process and that the process is the one
    /// this session was opened on (same start time), so a reused PID is never called into.
    /// </summary>
    private void VerifyIdentity(int tid)
    {
        bool inGroup = Directory.Exists(_fs.ThreadPath(Pid, tid, ""));
        ulong? start = TargetProcess.StartTime(_fs, Pid, _buffer);
        if (inGroup && start == _startTimeTicks)
        {
            return;
        }

        Detach(tid, 0);
        throw start is ulong other && inGroup ? TargetProcess.Reused(Pid, other, _startTimeTicks) : TargetProcess.Exited(Pid);
    }

    /// <summary>
    /// The function and the return path must still be code of this process image, and the return path's bytes still the
    /// ones found (the finder's cache is shared by processes mapping the same file): an exec or a remap is caught here.
    /// </summary>
    private void CheckCode(TargetMaps maps, ulong function)
    {
        Span<byte> code = stackalloc byte[32];
        bool ok = maps.Find(function) is { Executable: true } && maps.Find(_path.Restorer) is { Executable: true } && maps.Find(_path.Capture) is { Executable: true }
            && Libc.ReadProcessMemory(Pid, _path.Restorer, code[..X64CallAbi.RestorerLength]) == X64CallAbi.RestorerLength
            && X64ReturnPathScanner.FindRestorer(code[..X64CallAbi.RestorerLength]) == 0;
        if (ok)
        {
            long n = Libc.ReadProcessMemory(Pid, _path.Capture, code);
            ok = n > 0 && X64ReturnPathScanner.FindCapture(code[..(int)n], out int stack, out int register, out bool toMemory, out int displacement) == 0
                && stack == _path.CaptureStackBytes && register == _path.Register && toMemory == _path.StoresToMemory && displacement == _path.Displacement;
        }

        if (!ok)
        {
            throw TargetProcess.IsGone(_fs, Pid) ? TargetProcess.Exited(Pid) : new RemoteCallException(RemoteCallFailure.ProcessExited,
                $"process {Pid} no longer has the code this session resolved (it ran exec or unmapped its libc): open a new session");
        }
    }

    /// <summary>Seizes and stops one thread. False when the thread exited meanwhile (the process still lives).</summary>
    private bool TryAttach(int tid)
    {
        if (Libc.Ptrace(Libc.PTRACE_SEIZE, tid, 0, Libc.PTRACE_O_TRACESYSGOOD) < 0)
        {
            int e = Marshal.GetLastPInvokeError();

            // An exiting thread refuses PTRACE_SEIZE with EPERM (PF_EXITING), as when another thread runs exec.
            if ((e == Errno.ESRCH || ThreadStat.TryReadState(_fs, Pid, tid, _buffer) is null or 'Z' or 'X') && ProcessAlive())
            {
                return false;
            }

            throw PtraceDiagnosis.Refusal(_fs, Pid, tid, e);
        }

        if (Libc.Ptrace(Libc.PTRACE_INTERRUPT, tid, 0, 0) < 0)
        {
            return ProcessAliveOrThrow() && false;
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(_options.StopTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            PtraceWait w = PtraceWait.Next(tid, deadline);
            if (w.Kind == PtraceWaitKind.Exited)
            {
                return ProcessAliveOrThrow() && false;
            }

            if (w.Kind == PtraceWaitKind.TimedOut)
            {
                _thread.ExitRequested = true;
                throw new RemoteCallException(
                    RemoteCallFailure.NotSafe,
                    $"thread {tid} of process {Pid} did not stop within {_options.StopTimeout.TotalMilliseconds:0} ms (uninterruptible sleep?); it is released when the tracer thread ends");
            }

            if (w.IsEventStop)
            {
                // First thing at the stop, so that every release from here restarts what the stop interrupted.
                if (Libc.PtraceGetRegs(tid, out UserRegs regs) >= 0 && SyscallRestart.TryNormalizeAtStop(ref regs))
                {
                    Libc.PtraceSetRegs(tid, regs);
                }

                return true;
            }

            // A signal arrived first: deliver it and wait for the pending interrupt.
            Libc.Ptrace(Libc.PTRACE_CONT, tid, 0, w.IsSignalStop ? w.Signal : 0);
        }
    }

    private static void Detach(int tid, int signal) => Libc.Ptrace(Libc.PTRACE_DETACH, tid, 0, signal);

    private List<int> Candidates(out string? whyNone)
    {
        if (_options.ThreadId is int only)
        {
            char? state = ThreadStat.TryReadState(_fs, Pid, only, _buffer);
            if (state is null)
            {
                throw ProcessAlive()
                    ? new RemoteCallException(RemoteCallFailure.ProcessExited, $"thread {only} of process {Pid} no longer exists")
                    : TargetProcess.Exited(Pid);
            }

            // A thread that would be refused at its stop is not stopped at all: the stop turns epoll_pwait's wait into
            // -EINTR until it is rewritten, and a MemWatch killed in that moment would let it through.
            long nr = state == 'S' ? _candidates.BlockedSyscall(only) : -1;
            if (nr == SyscallRestart.RestartSyscall || SyscallRestart.SwapsSignalMask(nr))
            {
                whyNone = $"thread {only} waits in system call {nr} with a temporary signal mask or in restart_syscall";
                return [];
            }

            whyNone = null;
            return [only];
        }

        List<int> ranked = _candidates.Rank(_tid, out whyNone);
        if (ranked.Count == 0 && TargetProcess.IsGone(_fs, Pid))
        {
            throw TargetProcess.Exited(Pid);
        }

        return ranked;
    }

    private RemoteCallException ExitedDuringCall(int tid, ulong function) =>
        new(RemoteCallFailure.ProcessExited, $"process {Pid} (thread {tid}) exited or ran exec during the call to 0x{function:x}");

    private static bool IsSynchronousFault(int signal, int code) =>
        code > 0 && signal is Libc.SIGSEGV or Libc.SIGBUS or Libc.SIGILL or Libc.SIGFPE or Libc.SIGTRAP;

    private bool ProcessAlive() => !TargetProcess.IsGone(_fs, Pid);

    private bool ProcessAliveOrThrow() => ProcessAlive() ? true : throw TargetProcess.Exited(Pid);

    private static long Microseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;
}
