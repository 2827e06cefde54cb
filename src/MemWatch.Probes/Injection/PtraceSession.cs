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
/// thread again at its exit, puts back the registers of the first stop and detaches: the kernel then restarts or
/// completes the interrupted system call itself (the detach sets TIF_SIGPENDING, so the way out goes through
/// arch_do_signal_or_restart). Between calls no thread is traced. If MemWatch dies mid-call, the
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
    private readonly RemoteCallOptions _options;
    private readonly ProcFileSystem _fs;
    private readonly X64ReturnPath _path;
    private readonly FileBuffer _buffer = new(8 * 1024);
    private readonly Lock _callLock = new();
    private readonly CallTimeline _timeline = new();
    private readonly ThreadSeizer _seizer;
    private readonly PtraceCallRunner _runner;
    private PtraceThread _thread;
    private int _tid;
    private bool _disposed;

    private PtraceSession(int pid, RemoteCallOptions options, X64ReturnPath path, ulong startTimeTicks, SafePointRule rule, LiveProcessMemory memory, ProcFile? stat,
        TargetPidFd? pidfd)
    {
        Pid = pid;
        _options = options;
        _fs = options.ProcFileSystem;
        _path = path;
        _thread = new PtraceThread($"ptrace {pid}");
        _seizer = new ThreadSeizer(pid, options, path, startTimeTicks, rule, memory, stat, pidfd, _timeline, RequestTracerExit);
        _runner = new PtraceCallRunner(pid, options, path, _timeline, RequestTracerExit, _seizer, rule, memory);
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
            ProcFile? stat = ThreadSeizer.OpenStat(options.ProcFileSystem, pid, startTime, buffer);
            session = new PtraceSession(pid, options, path, startTime, rule, memory, stat, options.UsePidFd ? ThreadSeizer.OpenPidFd(options.ProcFileSystem, pid, startTime, stat, buffer) : null);
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
        _seizer.Dispose();
        TargetLock.Release(Pid);
    }

    /// <summary>Open's proof that ptrace works: seize, stop and release one thread.</summary>
    private int Probe()
    {
        List<int> candidates = _seizer.RankAll(out string? whyNone);
        foreach (int tid in candidates)
        {
            if (_seizer.TryAttach(tid, out _))
            {
                ThreadSeizer.Detach(tid, 0);
                Volatile.Write(ref _tid, tid);
                return tid;
            }
        }

        throw candidates.Count == 0 && _seizer.ProcessAlive()
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

            List<int> candidates = _seizer.Candidates(Volatile.Read(ref _tid), out string? whyNone);
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

            _seizer.CheckCode(maps, function);
            long stopRequested = Stopwatch.GetTimestamp();
            _timeline.Start(stopRequested);
            if (!_seizer.TryAttach(tid, out UserRegs saved))
            {
                lastReason = $"thread {tid} exited";
                continue;
            }

            _timeline.Mark(CallTimeline.Seized);
            ThreadStopFields? fields = _seizer.ReadStopFields(tid, out string? statusProblem);
            int threadCount = _seizer.VerifyIdentity(tid, fields);
            if (threadCount < 0)
            {
                lastReason = $"thread {tid} exited";
                continue;
            }

            _timeline.Mark(CallTimeline.Identified);
            string? unsafeReason = _seizer.Refusal(tid, saved, maps, scratch.Length, threadCount, fields, statusProblem, out bool filtered);
            _timeline.Mark(CallTimeline.Checked);
            if (unsafeReason is not null)
            {
                ThreadSeizer.Detach(tid, 0);
                lastReason = $"thread {tid}: {unsafeReason}";
                continue;
            }

            Volatile.Write(ref _tid, tid);
            return _runner.Run(tid, saved, stopRequested, function, args, scratch, timeout, filtered);
        }

        throw new RemoteCallException(
            RemoteCallFailure.NotSafe,
            $"no thread of process {Pid} was at a safe point in {attempts} tries; last: {lastReason}");
    }

    /// <summary>The kernel detaches every tracee of a tracer thread that exits: used when a thread would not stop.</summary>
    private void RequestTracerExit() => _thread.ExitRequested = true;
}
