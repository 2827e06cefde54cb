using System.Diagnostics;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.SafePoints;

/// <summary>
/// Decides whether a stopped thread is a safe point for calling the allocator's functions in it: the thread holds no
/// allocator, stdio or loader lock and is in no allocator, fork, statistics or loader critical section.
/// </summary>
/// <remarks>
/// <para>In order; the first that fails makes the thread unsafe:</para>
/// <list type="number">
/// <item>rsp lies in a recognised stack (<see cref="ThreadStackLocator"/>) with at least the bytes the caller needs below it.</item>
/// <item>The whole stack is unwound with CFI (<see cref="StackUnwinder"/>) and no frame lies in a
/// <see cref="CriticalRegions">critical region</see>. A frame's return address is looked up at ra - 1 (its call site).</item>
/// <item>The unwind reached the outermost frame: a stack that could not be walked to its end cannot be proven free of
/// critical frames.</item>
/// <item>With libc6-dbg: <c>list_all_lock</c> is not owned by this thread (a program may return from
/// <c>_IO_list_lock</c> holding it, with no stdio frame left), and in a single-threaded process no arena mutex is held
/// (only this thread could hold it). glibc takes no arena lock at all while a process is single-threaded
/// (SINGLE_THREAD_P), so there the unwind is the only evidence, and it is required.</item>
/// </list>
/// Costs per call: one unwind (a few process_vm_readv of the thread's stack pages, no allocation in the unwinder),
/// one 3 KiB read of the struct pthread, and with debug symbols one read per arena. Build one rule per target and reuse it.
/// <para>The remote-call engine asks this rule, and only this rule, before every call (<see cref="Check"/>) and before it
/// rolls back a callee that outlived its timeout (<see cref="CheckRollback"/>).</para>
/// </remarks>
public sealed class SafePointRule
{
    // Between a rolled-back thread's futex wait and the callee's frame: at most the lock-wait function (__lll_lock_wait_private).
    private const int MaxFramesBelowCallee = 1;

    private readonly int _pid;
    private readonly UnwindAddressSpace _space;
    private readonly CriticalRegions _regions;
    private readonly GlibcLockWords? _locks;
    private readonly StackUnwinder _unwinder = new();
    private readonly ThreadStackLocator _stacks = new();
    private readonly UnwindFrame[] _frames;

    public SafePointRule(int pid, UnwindAddressSpace space, CriticalRegions regions, GlibcLockWords? locks, int maxFrames = StackUnwinder.DefaultMaxFrames)
    {
        _pid = pid;
        _space = space;
        _regions = regions;
        _locks = locks;
        _frames = new UnwindFrame[maxFrames];
    }

    public UnwindAddressSpace AddressSpace => _space;

    public CriticalRegions Regions => _regions;

    public GlibcLockWords? LockWords => _locks;

    /// <summary>Stopwatch timestamps of the last <see cref="Check"/>: stack located, stack unwound, lock words read.</summary>
    internal (long Located, long Unwound, long LocksRead) LastCheckTimes { get; private set; }

    /// <summary>The struct pthread field offsets the stack rule has learnt from this process's threads (null before a glibc thread was seen).</summary>
    public PthreadStackFields? PthreadFields => _stacks.LearntFields;

    /// <summary>Builds the rule for a process: its CFI, critical regions and (with libc6-dbg) lock words.</summary>
    public static SafePointRule Create(ProcFileSystem fs, TargetSymbols symbols, IUnwindMemory memory, IEnumerable<(ulong Start, ulong End)>? extraCriticalRanges = null)
        => new(symbols.Pid, UnwindAddressSpace.Load(fs, symbols, memory), CriticalRegions.Build(symbols, extraCriticalRanges), GlibcLockWords.TryCreate(symbols));

    /// <summary>
    /// Checks thread <paramref name="tid"/>, stopped with registers <paramref name="regs"/>. <paramref name="neededStackBytes"/>
    /// is what the caller will write below rsp (beyond the red zone). <paramref name="threadCount"/> is the number of
    /// threads in the process (1 makes a held arena mutex this thread's). <paramref name="memory"/> must read the
    /// process as it is now (a <see cref="LiveProcessMemory"/> reset since the thread stopped).
    /// </summary>
    internal SafePointVerdict Check(int tid, in UserRegs regs, TargetMaps maps, IUnwindMemory memory, ulong neededStackBytes, int threadCount)
    {
        var locks = new List<LockWord>();
        ThreadStack stack = _stacks.Locate(_pid, tid, regs.Rsp, regs.FsBase, maps, memory);
        long located = Stopwatch.GetTimestamp();
        LastCheckTimes = (located, located, located);
        if (!stack.IsRecognised)
        {
            return Unsafe($"rsp 0x{regs.Rsp:x} is not in a recognised stack: {stack.Description}", stack, null, locks);
        }

        ulong free = stack.FreeBelow(regs.Rsp);
        if (free < neededStackBytes)
        {
            return Unsafe($"only {free} bytes of stack below rsp 0x{regs.Rsp:x} (past the red zone) in {stack.Description}; {neededStackBytes} needed", stack, null, locks);
        }

        UnwindEndReason end = _unwinder.Unwind(_space, UnwindRegisters.FromUserRegs(regs), memory, _frames, out int count, out string? detail);
        var unwind = new UnwindResult(_frames.AsSpan(0, count).ToArray(), end, detail);
        long unwound = Stopwatch.GetTimestamp();

        // Read with the thread still stopped; they are evidence in every verdict, decisive only below.
        string? lockProblem = null;
        _locks?.TryRead(memory, locks, out lockProblem);
        LastCheckTimes = (located, unwound, Stopwatch.GetTimestamp());
        for (int i = 0; i < count; i++)
        {
            if (_regions.TryFind(_frames[i].LookupPc, out CriticalRegion region))
            {
                return new SafePointVerdict(
                    false,
                    $"frame #{i} (0x{_frames[i].Pc:x}) is in {region.Name} [{region.Kind}]",
                    region,
                    _frames[i],
                    i,
                    stack,
                    unwind,
                    locks);
            }
        }

        if (end != UnwindEndReason.Outermost)
        {
            return Unsafe($"the stack could not be unwound to its outermost frame, so it cannot be proven free of lock-holding frames ({end}: {detail})", stack, unwind, locks);
        }

        if (lockProblem is not null)
        {
            return Unsafe($"glibc's lock words could not be read: {lockProblem}", stack, unwind, locks);
        }

        foreach (LockWord w in locks)
        {
            if (!w.IsFree && w.Owner != 0 && w.Owner == regs.FsBase)
            {
                return Unsafe($"the thread owns {w.Name} (owner 0x{w.Owner:x} is its struct pthread)", stack, unwind, locks);
            }

            if (!w.IsFree && threadCount == 1)
            {
                return Unsafe($"{w.Name} is held in a single-threaded process, so by this thread", stack, unwind, locks);
            }
        }

        int freeWords = 0;
        foreach (LockWord w in locks)
        {
            freeWords += w.IsFree ? 1 : 0;
        }

        string evidence = _locks is null ? "no libc debug symbols: lock words not read" : $"{freeWords} of {locks.Count} lock words free";
        return new SafePointVerdict(true, $"{count} frames unwound to the outermost, none in a critical region; {free} bytes free in {stack.Description}; {evidence}", null, null, -1, stack, unwind, locks);
    }

    /// <summary>
    /// May thread <paramref name="tid"/>, stopped inside a call to <paramref name="callee"/> that outlived its timeout, be
    /// put back where the call started? Only when it provably holds no lock: the callee is one of
    /// <paramref name="lockStepCallees"/> (it holds at most one lock at a time and blocks only while acquiring one), the
    /// thread is waiting in futex(FUTEX_WAIT), and the unwound stack shows that wait called from the callee's own frame
    /// (at most one lock-wait function between; the callee's frame is the one that returns to
    /// <paramref name="returnAddress"/> with rsp <paramref name="returnSp"/>), so the lock it waits for is the one it was
    /// acquiring, not one taken further in. A thread owning <c>list_all_lock</c> is never rolled back.
    /// </summary>
    internal SafePointVerdict CheckRollback(int tid, in UserRegs regs, IUnwindMemory memory, ulong callee, IReadOnlyList<ulong> lockStepCallees, ulong returnAddress, ulong returnSp)
    {
        const long sysFutex = 202;
        const ulong futexCommandMask = 0x7f; // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
        if (!lockStepCallees.Contains(callee))
        {
            return SafePointVerdict.Unsafe($"the callee 0x{callee:x} is not known to hold at most one lock at a time, so where it stopped proves nothing");
        }

        if (!(unchecked((long)regs.OrigRax) == sysFutex && SyscallRestart.IsInterruptedSyscall(regs) && (regs.Rsi & futexCommandMask) == 0))
        {
            return SafePointVerdict.Unsafe($"thread {tid} stopped at rip 0x{regs.Rip:x} (system call {unchecked((long)regs.OrigRax)}), not waiting for a lock, so it may hold one");
        }

        UnwindEndReason end = _unwinder.Unwind(_space, UnwindRegisters.FromUserRegs(regs), memory, _frames, out int count, out string? detail);
        var unwind = new UnwindResult(_frames.AsSpan(0, count).ToArray(), end, detail);
        var stack = ThreadStack.Unrecognised("not located (rollback)");
        var locks = new List<LockWord>();
        int callerFrame = -1;
        for (int i = 1; i < count && i <= MaxFramesBelowCallee + 1; i++)
        {
            if (_frames[i].Pc == returnAddress && _frames[i].Sp == returnSp)
            {
                callerFrame = i;
                break;
            }
        }

        if (callerFrame < 0)
        {
            return Unsafe($"its futex wait is not called from the callee's own frame (unwound: {unwind})", stack, unwind, locks);
        }

        for (int i = 0; i < callerFrame - 1; i++)
        {
            if (_regions.TryFind(_frames[i].LookupPc, out CriticalRegion region) && region.Kind != CriticalRegionKind.GlibcMalloc)
            {
                return new SafePointVerdict(false, $"frame #{i} (0x{_frames[i].Pc:x}) inside the callee is in {region.Name} [{region.Kind}]", region, _frames[i], i, stack, unwind, locks);
            }
        }

        if (_locks is not null && _locks.TryRead(memory, locks, out _)
            && locks.Find(w => w.Name == "list_all_lock") is { IsFree: false } listAll && listAll.Owner == regs.FsBase)
        {
            return Unsafe($"the thread owns list_all_lock (owner 0x{listAll.Owner:x})", stack, unwind, locks);
        }

        return new SafePointVerdict(
            true,
            $"the lock-step callee's frame #{callerFrame - 1} waits in futex to acquire a lock, so it holds none",
            null,
            null,
            -1,
            stack,
            unwind,
            locks);
    }

    private static SafePointVerdict Unsafe(string reason, ThreadStack stack, UnwindResult? unwind, List<LockWord> locks)
        => new(false, reason, null, null, -1, stack, unwind, locks);
}
