using System.Buffers.Binary;

namespace MemWatch.Probes.Injection;

/// <summary>
/// The rule the engine uses until a stack unwinder's rule is plugged in (<see cref="RemoteCallOptions.SafePointRule"/>).
/// <para>Start: the instruction pointer and the words of the live stack must lie outside the forbidden code ranges: the
/// allocator's (<see cref="RemoteCallOptions.ForbiddenRanges"/>) over the first <see cref="RemoteCallOptions.StackScanBytes"/>,
/// and fork, malloc_stats, malloc_info and the stream flushers (<see cref="RemoteCallOptions.DeepForbiddenRanges"/>) over the
/// whole live stack, from rsp up to the top of its mapping (at most <see cref="MaxScanBytes"/>). Conservative: a return
/// address is found without unwinding, at the price of a refusal when a stale word or a function pointer points there.</para>
/// <para>Rollback: proven only for a callee of <see cref="RemoteCallOptions.LockStepCallees"/> (it holds at most one lock at
/// a time and blocks only while acquiring it) that is stopped waiting in futex(FUTEX_WAIT): it then holds no lock.</para>
/// </summary>
internal sealed class CodeRangeSafePointRule(RemoteCallOptions options) : ISafePointRule
{
    public const int MaxScanBytes = 1024 * 1024;

    private const long SysFutex = 202;
    private byte[] _stack = new byte[64 * 1024];

    public SafePointVerdict Judge(in SafePointQuery query) =>
        query.Purpose == SafePointPurpose.Start ? JudgeStart(query) : JudgeRollback(query);

    private SafePointVerdict JudgeStart(in SafePointQuery query)
    {
        IReadOnlyList<(ulong Start, ulong End)> near = options.ForbiddenRanges;
        IReadOnlyList<(ulong Start, ulong End)> deep = options.DeepForbiddenRanges;
        if (near.Count == 0 && deep.Count == 0)
        {
            return SafePointVerdict.Safe;
        }

        ulong rip = query.Regs.Rip;
        if ((Inside(rip, near) ?? Inside(rip, deep)) is (ulong, ulong) r)
        {
            return SafePointVerdict.Unsafe($"rip 0x{rip:x} is inside forbidden range [0x{r.Item1:x}, 0x{r.Item2:x})");
        }

        ulong rsp = query.Regs.Rsp;
        if (query.Maps.Find(rsp) is not TargetMapping stack)
        {
            return SafePointVerdict.Unsafe($"rsp 0x{rsp:x} is in no mapping");
        }

        int length = (int)Math.Min((ulong)(deep.Count > 0 ? MaxScanBytes : Math.Max(options.StackScanBytes, 8)), stack.End - rsp);
        if (_stack.Length < length)
        {
            _stack = new byte[Math.Max(length, _stack.Length * 2)];
        }

        long read = Interop.Libc.ReadProcessMemory(query.Pid, rsp, _stack.AsSpan(0, length));
        if (read < length)
        {
            return SafePointVerdict.Unsafe($"its live stack [0x{rsp:x}, +{length}) could not be read");
        }

        for (int i = 0; i + 8 <= read; i += 8)
        {
            ulong word = BinaryPrimitives.ReadUInt64LittleEndian(_stack.AsSpan(i));
            if (((i < options.StackScanBytes ? Inside(word, near) : null) ?? Inside(word, deep)) is (ulong, ulong) hit)
            {
                return SafePointVerdict.Unsafe($"stack word at rsp+{i} (0x{word:x}) points into forbidden range [0x{hit.Item1:x}, 0x{hit.Item2:x})");
            }
        }

        return SafePointVerdict.Safe;
    }

    private static (ulong, ulong)? Inside(ulong address, IReadOnlyList<(ulong Start, ulong End)> ranges)
    {
        foreach ((ulong start, ulong end) in ranges)
        {
            if (address >= start && address < end)
            {
                return (start, end);
            }
        }

        return null;
    }

    private SafePointVerdict JudgeRollback(in SafePointQuery query)
    {
        if (!options.LockStepCallees.Contains(query.Callee))
        {
            return SafePointVerdict.Unsafe($"the callee 0x{query.Callee:x} is not known to hold at most one lock at a time, so where it stopped proves nothing");
        }

        UserRegs r = query.Regs;
        const ulong FutexCommandMask = 0x7f; // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
        if (unchecked((long)r.OrigRax) == SysFutex && SyscallRestart.IsInterruptedSyscall(r) && (r.Rsi & FutexCommandMask) == 0)
        {
            return SafePointVerdict.Safe;
        }

        return SafePointVerdict.Unsafe(
            $"it stopped at rip 0x{r.Rip:x} (system call {unchecked((long)r.OrigRax)}), not waiting for a lock, so it may hold one");
    }
}
