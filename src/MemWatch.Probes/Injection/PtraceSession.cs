using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using MemWatch.Probes.ProcFs;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Probes.Injection;

/// <summary>
/// The x86_64 ptrace implementation of <see cref="IRemoteCallSession"/>. Each call seizes one thread
/// (PTRACE_SEIZE + PTRACE_INTERRUPT), checks it is at a safe point, runs the callee with PTRACE_SYSCALL so the
/// return is caught at the restorer's rt_sigreturn entry, restores the thread exactly and detaches it again:
/// between calls no thread is traced. If MemWatch dies mid-call, the callee's return runs rt_sigreturn on the
/// frame built by <see cref="X64CallAbi.BuildFrame"/> and the thread restores itself.
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

    // Syscalls that swap in a temporary signal mask and restore the real one on the way out.
    private static readonly long[] s_maskSwappingSyscalls = [130, 270, 271, 281, 333, 441];

    private readonly RemoteCallOptions _options;
    private readonly ProcFileSystem _fs;
    private readonly X64ReturnPath _path;
    private readonly byte[] _xstate = new byte[XstateBufferBytes];
    private readonly byte[] _stack;
    private readonly FileBuffer _buffer = new(8 * 1024);
    private readonly Lock _callLock = new();
    private readonly Dictionary<int, ulong> _abandonedFrameTops = [];
    private PtraceThread _thread;
    private int _tid;
    private bool _disposed;

    private PtraceSession(int pid, RemoteCallOptions options, X64ReturnPath path)
    {
        Pid = pid;
        _options = options;
        _fs = options.ProcFileSystem;
        _path = path;
        _stack = new byte[Math.Max(options.StackScanBytes, 8)];
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
            if (!ThreadStatus.TryRead(options.ProcFileSystem, pid, null, buffer, out ThreadStatus? status))
            {
                throw Exited(pid);
            }

            if (status.TracerPid != 0)
            {
                throw PtraceDiagnosis.AlreadyTraced(options.ProcFileSystem, pid, status.TracerPid);
            }

            if (status.ShadowStackEnabled)
            {
                throw new RemoteCallException(RemoteCallFailure.Unsupported, $"process {pid} runs with an x86 user shadow stack, which forbids returning into a frame MemWatch builds");
            }

            CheckExecutable(options.ProcFileSystem, pid);
            if (!TargetMaps.TryRead(options.ProcFileSystem, pid, buffer, out TargetMaps? maps))
            {
                throw Exited(pid);
            }

            X64ReturnPath path = X64ReturnPathFinder.Find(pid, maps)
                ?? throw new RemoteCallException(
                    RemoteCallFailure.Unsupported,
                    $"process {pid}: no rt_sigreturn restorer (48 c7 c0 0f 00 00 00 0f 05) or no 'mov %rax,..; ret' capture sequence in its executable mappings, so a call could not restore the thread if MemWatch died");
            session = new PtraceSession(pid, options, path);
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
            throw Exited(Pid);
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
        foreach (int tid in Candidates())
        {
            if (TryAttach(tid))
            {
                Detach(tid, 0);
                Volatile.Write(ref _tid, tid);
                return tid;
            }
        }

        throw Exited(Pid);
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

            IReadOnlyList<int> candidates = Candidates();
            int tid = candidates[attempt % candidates.Count];
            if (!TargetMaps.TryRead(_fs, Pid, _buffer, out TargetMaps? maps))
            {
                throw Exited(Pid);
            }

            long stopRequested = Stopwatch.GetTimestamp();
            if (!TryAttach(tid))
            {
                lastReason = $"thread {tid} exited";
                continue;
            }

            if (Libc.PtraceGetRegs(tid, out UserRegs saved) < 0)
            {
                Detach(tid, 0);
                lastReason = $"thread {tid}: PTRACE_GETREGS failed (errno {Marshal.GetLastPInvokeError()})";
                continue;
            }

            string? unsafeReason = SafetyCheck(tid, saved, maps, scratch.Length);
            if (unsafeReason is not null)
            {
                Detach(tid, 0);
                lastReason = $"thread {tid}: {unsafeReason}";
                continue;
            }

            Volatile.Write(ref _tid, tid);
            return RunCall(tid, saved, stopRequested, function, args, scratch, timeout);
        }

        throw new RemoteCallException(
            RemoteCallFailure.NotSafe,
            $"no thread of process {Pid} was at a safe point in {attempts} tries; last: {lastReason}");
    }

    private RemoteCallResult RunCall(int tid, UserRegs saved, long stopRequested, ulong function, RemoteArg[] args, byte[] scratch, TimeSpan timeout)
    {
        long xlen = Libc.PtraceGetRegSet(tid, Libc.NT_X86_XSTATE, _xstate);
        if (xlen < X64CallAbi.MinXstateSize)
        {
            int e = Marshal.GetLastPInvokeError();
            Detach(tid, 0);
            throw new RemoteCallException(RemoteCallFailure.Unsupported, $"PTRACE_GETREGSET NT_X86_XSTATE on thread {tid} failed (result {xlen}, errno {e})");
        }

        byte[] xstate = _xstate.AsSpan(0, (int)xlen).ToArray();
        ulong blocked;
        try
        {
            blocked = ThreadStatus.TryRead(_fs, Pid, tid, _buffer, out ThreadStatus? status) ? status.BlockedSignals : 0;
        }
        catch
        {
            Detach(tid, 0);
            throw;
        }

        X64CallFrame frame = X64CallAbi.BuildFrame(saved, xstate, blocked, scratch.Length, _path);
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

        if (Libc.PtraceSetRegs(tid, callRegs) < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            Detach(tid, 0);
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"PTRACE_SETREGS on thread {tid} failed (errno {e})");
        }

        long resumed = Stopwatch.GetTimestamp();
        Libc.Ptrace(Libc.PTRACE_SYSCALL, tid, 0, 0);
        if (Array.IndexOf(s_maskSwappingSyscalls, unchecked((long)saved.OrigRax)) >= 0)
        {
            PatchSignalMask(tid, frame, blocked);
        }

        long deadline = resumed + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            PtraceWait w = PtraceWait.Next(tid, deadline);
            switch (w.Kind)
            {
                case PtraceWaitKind.Exited:
                    throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"process {Pid} (thread {tid}) exited during the call to 0x{function:x}");
                case PtraceWaitKind.TimedOut:
                    return OnTimeout(tid, saved, xstate, frame, stopRequested, resumed, function, scratch, timeout);
            }

            if (w.IsSyscallStop)
            {
                if (Libc.PtraceGetRegs(tid, out UserRegs now) < 0)
                {
                    continue; // the thread is dying; the next wait reports it
                }

                if (X64CallAbi.IsReturnStop(now, frame, _path))
                {
                    return Finish(tid, saved, xstate, now, frame, stopRequested, resumed, scratch);
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
                    // Put the thread back where it was and let it take the signal there: its own handler decides.
                    Libc.PtraceSetRegSet(tid, Libc.NT_X86_XSTATE, xstate);
                    Libc.PtraceSetRegs(tid, saved);
                    Libc.Ptrace(Libc.PTRACE_DETACH, tid, 0, signal);
                    throw new RemoteCallException(
                        RemoteCallFailure.CalleeFault,
                        $"the callee 0x{function:x} in process {Pid} took signal {signal} (si_code {code}, address 0x{faultAddress:x}); the thread was restored and the signal handed to the process");
                }

                Libc.Ptrace(Libc.PTRACE_SYSCALL, tid, 0, signal);
            }
        }
    }

    private RemoteCallResult Finish(int tid, in UserRegs saved, byte[] xstate, in UserRegs atReturn, X64CallFrame frame, long stopRequested, long resumed, byte[] scratch)
    {
        long returned = Stopwatch.GetTimestamp();
        int readLength = checked((int)(frame.ScratchAddress + (ulong)scratch.Length - frame.ResultSlotAddress));
        byte[] back = new byte[readLength];
        bool readOk = Libc.ReadProcessMemory(Pid, frame.ResultSlotAddress, back) == readLength;

        // xstate first: if restoring the registers failed after it, detaching still lets rt_sigreturn restore all.
        if (Libc.PtraceSetRegSet(tid, Libc.NT_X86_XSTATE, xstate) < 0 || Libc.PtraceSetRegs(tid, X64CallAbi.WithRestartApplied(saved)) < 0)
        {
            Detach(tid, 0);
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"thread {tid} of process {Pid} could not be restored by ptrace after the call; it restores itself through rt_sigreturn");
        }

        Detach(tid, 0);
        long released = Stopwatch.GetTimestamp();
        if (!readOk)
        {
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"the result of the call could not be read back from process {Pid}");
        }

        back.AsSpan((int)(frame.ScratchAddress - frame.ResultSlotAddress), scratch.Length).CopyTo(scratch);
        ulong value = X64CallAbi.ReturnValue(atReturn, _path, back.AsSpan(0, 8));
        return new RemoteCallResult(value, Microseconds(released - stopRequested), Microseconds(returned - resumed));
    }

    private RemoteCallResult OnTimeout(int tid, in UserRegs saved, byte[] xstate, X64CallFrame frame, long stopRequested, long resumed, ulong function, byte[] scratch, TimeSpan timeout)
    {
        Libc.Ptrace(Libc.PTRACE_INTERRUPT, tid, 0, 0);
        PtraceWait w = PtraceWait.Next(tid, Stopwatch.GetTimestamp() + (long)(_options.StopTimeout.TotalSeconds * Stopwatch.Frequency));
        if (w.Kind == PtraceWaitKind.Exited)
        {
            throw new RemoteCallException(RemoteCallFailure.ProcessExited, $"process {Pid} (thread {tid}) exited during the call to 0x{function:x}");
        }

        if (w.Kind == PtraceWaitKind.TimedOut)
        {
            // The kernel detaches every tracee of a tracer thread that exits.
            _thread.ExitRequested = true;
        }
        else if (w.IsSyscallStop && Libc.PtraceGetRegs(tid, out UserRegs now) >= 0 && X64CallAbi.IsReturnStop(now, frame, _path))
        {
            return Finish(tid, saved, xstate, now, frame, stopRequested, resumed, scratch);
        }
        else
        {
            Detach(tid, w.IsSignalStop ? w.Signal : 0);
        }

        _abandonedFrameTops[tid] = frame.ScratchAddress + (ulong)scratch.Length;
        throw new RemoteCallException(
            RemoteCallFailure.Timeout,
            $"the callee 0x{function:x} did not return within {timeout.TotalMilliseconds:0} ms; thread {tid} of process {Pid} was released " +
            "and restores its registers, signal mask and FPU state itself (rt_sigreturn) when the callee returns; the result is lost");
    }

    private void PatchSignalMask(int tid, X64CallFrame frame, ulong written)
    {
        // Read while the callee runs: by then the kernel has put back the mask the syscall had swapped out.
        try
        {
            if (ThreadStatus.TryRead(_fs, Pid, tid, _buffer, out ThreadStatus? status) && status.BlockedSignals != written)
            {
                Span<byte> mask = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(mask, status.BlockedSignals);
                Libc.WriteProcessMemory(Pid, frame.SigmaskAddress, mask);
            }
        }
        catch (ProcParseException)
        {
            // Keep the mask read at the stop.
        }
    }

    /// <summary>Seizes and stops one thread. False when the thread exited meanwhile (the process still lives).</summary>
    private bool TryAttach(int tid)
    {
        if (Libc.Ptrace(Libc.PTRACE_SEIZE, tid, 0, Libc.PTRACE_O_TRACESYSGOOD) < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            if (e == Errno.ESRCH && ProcessAlive())
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
                return true;
            }

            // A signal arrived first: deliver it and wait for the pending interrupt.
            Libc.Ptrace(Libc.PTRACE_CONT, tid, 0, w.IsSignalStop ? w.Signal : 0);
        }
    }

    private static void Detach(int tid, int signal) => Libc.Ptrace(Libc.PTRACE_DETACH, tid, 0, signal);

    /// <summary>Null when the thread may be used; otherwise why not.</summary>
    private string? SafetyCheck(int tid, in UserRegs regs, TargetMaps maps, int scratchLength)
    {
        IReadOnlyList<(ulong Start, ulong End)> forbidden = _options.ForbiddenRanges;
        foreach ((ulong start, ulong end) in forbidden)
        {
            if (regs.Rip >= start && regs.Rip < end)
            {
                return $"rip 0x{regs.Rip:x} is inside forbidden range [0x{start:x}, 0x{end:x})";
            }
        }

        if (_abandonedFrameTops.TryGetValue(tid, out ulong frameTop))
        {
            if (regs.Rsp < frameTop)
            {
                return $"still running a call abandoned after a timeout (rsp 0x{regs.Rsp:x} below its frame top 0x{frameTop:x})";
            }

            _abandonedFrameTops.Remove(tid);
        }

        if (maps.Find(regs.Rsp) is not TargetMapping stack || !stack.Writable)
        {
            return $"rsp 0x{regs.Rsp:x} is not in a writable mapping";
        }

        ulong needed = (ulong)(scratchLength + XstateBufferBytes + _options.MinimumStackHeadroomBytes);
        if (!stack.IsMainStack && regs.Rsp - stack.Start < needed)
        {
            return $"only {regs.Rsp - stack.Start} bytes of stack below rsp, {needed} needed";
        }

        if (forbidden.Count == 0)
        {
            return null;
        }

        int length = (int)Math.Min((ulong)_stack.Length, stack.End - regs.Rsp);
        long read = Libc.ReadProcessMemory(Pid, regs.Rsp, _stack.AsSpan(0, length));
        for (int i = 0; i + 8 <= read; i += 8)
        {
            ulong word = BinaryPrimitives.ReadUInt64LittleEndian(_stack.AsSpan(i));
            foreach ((ulong start, ulong end) in forbidden)
            {
                if (word >= start && word < end)
                {
                    return $"stack word at rsp+{i} (0x{word:x}) points into forbidden range [0x{start:x}, 0x{end:x})";
                }
            }
        }

        return null;
    }

    /// <summary>Threads to try, best first: the last one used, then sleeping (S) threads, then running ones.</summary>
    private List<int> Candidates()
    {
        if (_options.ThreadId is int only)
        {
            char? state = ThreadStat.TryReadState(_fs, Pid, only, _buffer);
            if (state is null)
            {
                throw ProcessAlive()
                    ? new RemoteCallException(RemoteCallFailure.ProcessExited, $"thread {only} of process {Pid} no longer exists")
                    : Exited(Pid);
            }

            return [only];
        }

        var ranked = new List<(int Rank, int Tid)>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories(_fs.ProcessPath(Pid, "task")))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int tid))
                {
                    continue;
                }

                char? state = ThreadStat.TryReadState(_fs, Pid, tid, _buffer);
                int rank = state switch
                {
                    'S' => tid == _tid ? 0 : 1,
                    'R' => 2,
                    _ => -1, // D (cannot stop), T/t (stopped), Z/X (exiting)
                };
                if (rank >= 0)
                {
                    ranked.Add((rank, tid));
                }
            }
        }
        catch (Exception e) when (FileBuffer.IsGone(e))
        {
            throw Exited(Pid);
        }

        if (ranked.Count == 0)
        {
            throw ProcessAlive()
                ? new RemoteCallException(RemoteCallFailure.NotSafe, $"no thread of process {Pid} is sleeping or running (all stopped, in uninterruptible sleep or exiting)")
                : Exited(Pid);
        }

        ranked.Sort();
        return ranked.ConvertAll(r => r.Tid);
    }

    private static bool IsSynchronousFault(int signal, int code) =>
        code > 0 && signal is Libc.SIGSEGV or Libc.SIGBUS or Libc.SIGILL or Libc.SIGFPE or Libc.SIGTRAP;

    private bool ProcessAlive() => Directory.Exists(_fs.ProcessDirectory(Pid));

    private bool ProcessAliveOrThrow() => ProcessAlive() ? true : throw Exited(Pid);

    private static RemoteCallException Exited(int pid) =>
        new(RemoteCallFailure.ProcessExited, $"process {pid} no longer exists");

    private static long Microseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;

    private static void CheckExecutable(ProcFileSystem fs, int pid)
    {
        Span<byte> header = stackalloc byte[20];
        int n;
        try
        {
            using var exe = File.OpenHandle(fs.ProcessPath(pid, "exe"), FileMode.Open, FileAccess.Read);
            n = RandomAccess.Read(exe, header, 0);
        }
        catch (Exception e) when (FileBuffer.IsGone(e))
        {
            throw Directory.Exists(fs.ProcessDirectory(pid))
                ? new RemoteCallException(RemoteCallFailure.Unsupported, $"process {pid} has no executable (a kernel thread?)")
                : Exited(pid);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new RemoteCallException(RemoteCallFailure.PermissionDenied, $"cannot open /proc/{pid}/exe: {e.Message}", e);
        }

        const ushort EmX8664 = 62;
        if (n < 20 || !header[..4].SequenceEqual((ReadOnlySpan<byte>)[0x7f, (byte)'E', (byte)'L', (byte)'F']) || header[4] != 2
            || BinaryPrimitives.ReadUInt16LittleEndian(header[18..]) != EmX8664)
        {
            throw new RemoteCallException(RemoteCallFailure.Unsupported, $"process {pid} is not a 64-bit x86_64 ELF program");
        }
    }
}
