using System.Buffers.Binary;

namespace MemWatch.Probes.Injection;

/// <summary>
/// The rule the engine uses until a stack unwinder's rule is plugged in (<see cref="RemoteCallOptions.SafePointRule"/>).
/// <para>Start: the instruction pointer and every word of the live stack, from rsp up to the top of the mapping that holds
/// it (at most <see cref="MaxScanBytes"/>), must lie outside the forbidden code ranges (the allocator, fork, stdio's list
/// lock holders). Conservative: a return address anywhere on the live stack is found without unwinding, at the price of a
/// refusal when a stale word or a function pointer happens to point there.</para>
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
        IReadOnlyList<(ulong Start, ulong End)> forbidden = options.ForbiddenRanges;
        if (forbidden.Count == 0)
        {
            return SafePointVerdict.Safe;
        }

        ulong rip = query.Regs.Rip;
        foreach ((ulong start, ulong end) in forbidden)
        {
            if (rip >= start && rip < end)
            {
                return SafePointVerdict.Unsafe($"rip 0x{rip:x} is inside forbidden range [0x{start:x}, 0x{end:x})");
            }
        }

        ulong rsp = query.Regs.Rsp;
        if (query.Maps.Find(rsp) is not TargetMapping stack)
        {
            return SafePointVerdict.Unsafe($"rsp 0x{rsp:x} is in no mapping");
        }

        int length = (int)Math.Min((ulong)MaxScanBytes, stack.End - rsp);
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
            foreach ((ulong start, ulong end) in forbidden)
            {
                if (word >= start && word < end)
                {
                    return SafePointVerdict.Unsafe($"stack word at rsp+{i} (0x{word:x}) points into forbidden range [0x{start:x}, 0x{end:x})");
                }
            }
        }

        return SafePointVerdict.Safe;
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
