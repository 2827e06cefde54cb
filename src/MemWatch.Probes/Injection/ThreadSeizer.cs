using System.Diagnostics;
using System.Runtime.InteropServices;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.SafePoints;
using MemWatch.Probes.Unwinding;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Probes.Injection;

/// <summary>
/// Stops one thread of the target and decides whether a call may start there: ranks the threads, seizes and interrupts
/// one, checks that it still belongs to the process the session was opened on, and asks the blocked-system-call check,
/// the seccomp gate and the safe-point rule (<see cref="Refusal"/>, the one place a call's start is decided).
/// </summary>
internal sealed class ThreadSeizer : IDisposable
{
    private readonly RemoteCallOptions _options;
    private readonly ProcFileSystem _fs;
    private readonly X64ReturnPath _path;
    private readonly ulong _startTimeTicks;
    private readonly SafePointRule _rule;
    private readonly LiveProcessMemory _memory;
    private readonly ThreadCandidates _candidates;
    private readonly CallTimeline _timeline;
    private readonly Action _requestTracerExit;
    private readonly FileBuffer _buffer = new(8 * 1024);
    private readonly Dictionary<int, ulong> _abandonedFrameTops = [];

    // /proc/PID/stat held open since the start time was checked: a reload fails once that process is gone, even if
    // its PID was reused, and gives the thread count. Null when no descriptor was to be had (read by path then).
    private readonly ProcFile? _stat;

    // The same process as a pidfd, when pidfd_open is allowed: with the stopped thread's Tgid it proves identity at a
    // stop without generating the stat file (VerifyIdentity); the held stat is the fallback and names a failure.
    private readonly TargetPidFd? _pidfd;

    // The status file of the thread stopped last (the engine prefers it), held open; reopened for another thread.
    private ProcFile? _threadStatus;
    private int _threadStatusTid;

    // requestTracerExit makes the tracer thread end after this call: the kernel then detaches a thread that would not stop.
    public ThreadSeizer(int pid, RemoteCallOptions options, X64ReturnPath path, ulong startTimeTicks, SafePointRule rule, LiveProcessMemory memory,
        ProcFile? stat, TargetPidFd? pidfd, CallTimeline timeline, Action requestTracerExit)
    {
        Pid = pid;
        _options = options;
        _fs = options.ProcFileSystem;
        _path = path;
        _startTimeTicks = startTimeTicks;
        _rule = rule;
        _memory = memory;
        _stat = stat;
        _pidfd = pidfd;
        _timeline = timeline;
        _requestTracerExit = requestTracerExit;
        _candidates = new ThreadCandidates(_fs, pid);
    }

    public int Pid { get; }

    /// <summary>Every usable thread, best first, ignoring a pinned one (Open's probe).</summary>
    public List<int> RankAll(out string? whyNone) => _candidates.Rank(0, out whyNone);

    /// <summary>The threads to try, best first (only the pinned one when the options pin one); throws when the process is gone.</summary>
    public List<int> Candidates(int lastUsed, out string? whyNone)
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
            ulong[] arguments = [];
            long nr = state == 'S' ? _candidates.BlockedSyscall(only, out arguments) : -1;
            if (nr == SyscallRestart.RestartSyscall || SyscallRestart.SwapsSignalMask(nr, arguments))
            {
                whyNone = $"thread {only} waits in system call {nr} with a temporary signal mask or in restart_syscall";
                return [];
            }

            whyNone = null;
            return [only];
        }

        List<int> ranked = _candidates.Rank(lastUsed, out whyNone);
        if (ranked.Count == 0 && TargetProcess.IsGone(_fs, Pid))
        {
            throw TargetProcess.Exited(Pid);
        }

        return ranked;
    }

    /// <summary>
    /// Seizes and stops one thread and reads its registers (<paramref name="regs"/>, with an interrupted system call's
    /// restart already normalised). False when the thread exited meanwhile (the process still lives).
    /// </summary>
    public bool TryAttach(int tid, out UserRegs regs)
    {
        regs = default;
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
                _requestTracerExit();
                throw new RemoteCallException(
                    RemoteCallFailure.NotSafe,
                    $"thread {tid} of process {Pid} did not stop within {_options.StopTimeout.TotalMilliseconds:0} ms (uninterruptible sleep?); it is released when the tracer thread ends");
            }

            if (w.IsEventStop)
            {
                // A tracee in a ptrace stop whose registers cannot be read is being killed.
                if (Libc.PtraceGetRegs(tid, out regs) < 0)
                {
                    Detach(tid, 0);
                    return ProcessAliveOrThrow() && false;
                }

                // First thing at the stop, so that every release from here restarts what the stop interrupted.
                if (SyscallRestart.TryNormalizeAtStop(ref regs))
                {
                    Libc.PtraceSetRegs(tid, regs);
                }

                return true;
            }

            // A signal arrived first: deliver it and wait for the pending interrupt.
            Libc.Ptrace(Libc.PTRACE_CONT, tid, 0, w.IsSignalStop ? w.Signal : 0);
        }
    }

    /// <summary>
    /// The stopped thread's Tgid, its process's thread count and its seccomp mode, from its status file (held open for the
    /// thread stopped last). Null, with <paramref name="problem"/>, when the file cannot be read or parsed.
    /// </summary>
    public ThreadStopFields? ReadStopFields(int tid, out string? problem)
    {
        problem = null;
        try
        {
            if (_threadStatus is null || _threadStatusTid != tid || !_buffer.TryReload(_threadStatus))
            {
                // A held file of an exited thread fails its reload even when the TID now names another thread: reopen.
                _threadStatus?.Dispose();
                _threadStatus = ProcFile.TryOpen(_fs, Pid, $"task/{tid}/status");
                _threadStatusTid = tid;
                if (_threadStatus is null || !_buffer.TryReload(_threadStatus))
                {
                    problem = $"{_fs.ThreadPath(Pid, tid, "status")} could not be read";
                    return null;
                }
            }

            return ProcStatus.ParseStopFields(_buffer.Span, _threadStatus.Path);
        }
        catch (Exception e) when (e is ProcParseException or IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>
    /// After PTRACE_SEIZE the thread cannot change hands: check it belongs to the process and that the process is the one
    /// this session was opened on, so a reused PID is never called into. With a pidfd and the thread's
    /// <paramref name="fields"/>: its Tgid is the PID and the pidfd's process (checked at open to be the one meant) has not
    /// exited. Otherwise: the thread is listed under the PID and the held stat shows the same start time. Returns the
    /// process's thread count, or -1 (the thread released) when the process is the one meant but the thread is no longer
    /// in it (it exited after the candidates were listed and its TID went to another process).
    /// </summary>
    public int VerifyIdentity(int tid, ThreadStopFields? fields)
    {
        if (_pidfd is not null && fields is { } known && known.Tgid == Pid && !_pidfd.HasExited)
        {
            return known.Threads;
        }

        bool inGroup = fields is { } f ? f.Tgid == Pid : Directory.Exists(_fs.ThreadPath(Pid, tid, ""));
        ProcStat? stat = null;
        try
        {
            if (_stat is null)
            {
                ProcStat.TryRead(_fs, Pid, _buffer, out stat);
            }
            else if (_buffer.TryReload(_stat))
            {
                stat = ProcStat.Parse(_buffer.Span, _stat.Path);
            }
        }
        catch (Exception e) when (e is ProcParseException or IOException or UnauthorizedAccessException)
        {
            stat = null;
        }

        bool processMeant = stat is not null && stat.StartTimeTicks == _startTimeTicks && (_pidfd is null || !_pidfd.HasExited);
        if (processMeant)
        {
            if (inGroup)
            {
                return stat!.ThreadCount;
            }

            Detach(tid, 0);
            return -1;
        }

        // Gone, or (read by path) another process now: name which, by the PID's current holder.
        Detach(tid, 0);
        ulong? start = stat?.StartTimeTicks ?? TargetProcess.StartTime(_fs, Pid, _buffer);
        throw start is ulong other && other != _startTimeTicks && inGroup ? TargetProcess.Reused(Pid, other, _startTimeTicks) : TargetProcess.Exited(Pid);
    }

    /// <summary>Null when the stopped thread may run a call; otherwise why not. The safe-point rule is asked here, and only here.</summary>
    public string? Refusal(int tid, in UserRegs regs, TargetMaps maps, int scratchLength, int threadCount, ThreadStopFields? fields, string? statusProblem, out bool filtered)
    {
        filtered = false;
        if (SyscallRestart.Refusal(regs) is string syscall)
        {
            return syscall;
        }

        if (_options.IdleLoop?.Refusal(tid, regs, null) is string notIdle)
        {
            return notIdle;
        }

        if (_abandonedFrameTops.TryGetValue(tid, out ulong frameTop))
        {
            if (regs.Rsp < frameTop)
            {
                return $"still running a call abandoned after a timeout (rsp 0x{regs.Rsp:x} below its frame top 0x{frameTop:x})";
            }

            _abandonedFrameTops.Remove(tid);
        }

        if (fields is not { } stopFields)
        {
            return $"its status is unreadable ({statusProblem})";
        }

        int seccomp = stopFields.Seccomp ?? 0;
        filtered = seccomp != 0;
        if (SeccompGate.Check(tid, seccomp) is string filter)
        {
            return filter;
        }

        // The stack the frame goes on, every frame of the unwound stack, and the lock words, read while the thread is stopped.
        _timeline.Mark(CallTimeline.Seccomp);
        ulong needed = (ulong)(scratchLength + PtraceCallRunner.XstateBufferBytes + _options.MinimumStackHeadroomBytes);
        _memory.Reset();
        Prefetch(tid, regs);
        SafePointVerdict verdict = _rule.Check(tid, regs, maps, _memory, needed, threadCount);
        _timeline.SetCheckTimes(_rule.LastCheckTimes);
        return !verdict.IsSafe ? verdict.Reason : _options.IdleLoop?.Refusal(tid, regs, verdict.Unwind);
    }

    /// <summary>
    /// The function and the return path must still be code of this process image, and the return path's bytes still the
    /// ones found (the finder's cache is shared by processes mapping the same file): an exec or a remap is caught here.
    /// </summary>
    public void CheckCode(TargetMaps maps, ulong function)
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

    /// <summary>
    /// The pages the rule reads at every stop, in one system call: the stack at rsp, the lock words, another thread's
    /// struct pthread, and the next stack page last (the one most likely to lie past the stack's end).
    /// </summary>
    private void Prefetch(int tid, in UserRegs regs)
    {
        Span<ulong> at = stackalloc ulong[7];
        int n = 0;
        at[n++] = regs.Rsp;
        if (_rule.LockWords is { } locks)
        {
            at[n++] = locks.MainArena;
            at[n++] = locks.MainArena + locks.NextOffset;
            if (locks.ListAllLock != 0)
            {
                at[n++] = locks.ListAllLock;
            }
        }

        if (tid != Pid && regs.FsBase != 0)
        {
            at[n++] = regs.FsBase;
        }

        at[n++] = regs.Rsp + 4096;
        _memory.Prefetch(at[..n]);
    }

    /// <summary>
    /// A callee was left running on <paramref name="tid"/> after a timeout: the thread is refused until its rsp is back at
    /// or above <paramref name="frameTop"/>, the top of the abandoned call's frame.
    /// </summary>
    public void Abandon(int tid, ulong frameTop) => _abandonedFrameTops[tid] = frameTop;

    /// <summary>Holds /proc/PID/stat open once it shows the start time the session was opened with; null to read by path.</summary>
    public static ProcFile? OpenStat(ProcFileSystem fs, int pid, ulong startTime, FileBuffer buffer)
    {
        ProcFile? stat = ProcFile.TryOpen(fs, pid, "stat");
        if (stat is null)
        {
            return TargetProcess.IsGone(fs, pid) ? throw TargetProcess.Exited(pid) : null;
        }

        ulong? held = buffer.TryReload(stat) ? ProcStat.Parse(buffer.Span, stat.Path).StartTimeTicks : null;
        if (held == startTime)
        {
            return stat;
        }

        stat.Dispose();
        throw held is ulong other ? TargetProcess.Reused(pid, other, startTime) : TargetProcess.Exited(pid);
    }

    /// <summary>
    /// A pidfd for the process the session was opened on, or null (none to be had, or not provably that process: the
    /// held stat then decides at each stop). The pidfd names whichever process held the PID when it was opened; the held
    /// stat, or a read by path of the start time, the one meant. Both still there afterwards means both are the PID's one
    /// holder.
    /// </summary>
    public static TargetPidFd? OpenPidFd(ProcFileSystem fs, int pid, ulong startTime, ProcFile? stat, FileBuffer buffer)
    {
        TargetPidFd? pidfd = TargetPidFd.TryOpen(pid);
        if (pidfd is null)
        {
            return null;
        }

        bool meant;
        try
        {
            meant = (stat is null ? TargetProcess.StartTime(fs, pid, buffer) == startTime : buffer.TryReload(stat)) && !pidfd.HasExited;
        }
        catch (Exception e) when (e is ProcParseException or IOException or UnauthorizedAccessException)
        {
            meant = false;
        }

        if (!meant)
        {
            pidfd.Dispose();
            return null;
        }

        return pidfd;
    }

    public static void Detach(int tid, int signal) => Libc.Ptrace(Libc.PTRACE_DETACH, tid, 0, signal);

    public bool ProcessAlive() => !TargetProcess.IsGone(_fs, Pid);

    public void Dispose()
    {
        _stat?.Dispose();
        _pidfd?.Dispose();
        _threadStatus?.Dispose();
    }

    private bool ProcessAliveOrThrow() => ProcessAlive() ? true : throw TargetProcess.Exited(Pid);
}
