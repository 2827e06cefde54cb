using System.Buffers.Binary;
using MemWatch.Probes.Injection;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.SafePoints;

/// <summary>
/// Finds the stack a stopped thread runs on, from its rsp, its fs_base and the process's mappings.
/// </summary>
/// <remarks>
/// <para>Main thread (tid == pid): the <c>[stack]</c> mapping, when rsp is in it.</para>
/// <para>
/// Other threads, glibc only: fs_base points at the thread's <c>struct pthread</c> (x86_64 TLS variant II; its
/// <c>header.self</c> at offset 16 points back at it). glibc records the thread's stack there as
/// <c>void *stackblock; size_t stackblock_size; size_t guardsize;</c> (nptl/descr.h), and puts the <c>struct pthread</c>
/// itself at the top of that block, for stacks it allocates and for stacks given with pthread_attr_setstack alike
/// (nptl/allocatestack.c). So the rule reads the first 3 KiB of the <c>struct pthread</c> and accepts the one 8-aligned
/// offset where (block, size, guard) satisfy: block ≤ fs_base &lt; block + size ≤ fs_base + 64 KiB (the descriptor sits
/// at the top of its block), size ≤ 1 TiB, guard page-aligned and below size. More than one match, or none, is "not recognised"; the offset found is checked against gdb's
/// <c>ptype /o struct pthread</c> in ThreadStackTests. rsp must then lie in [block + guard, fs_base) and that range in one
/// writable mapping. A thread running on any other stack (swapcontext onto a heap block) is not recognised.
/// </para>
/// </remarks>
internal sealed class ThreadStackLocator
{
    // sizeof(struct pthread) is 2368 in glibc 2.36 and has stayed under 3 KiB; reading further would scan whatever
    // lies above a pthread_attr_setstack block.
    private const int ScanBytes = 3072;
    private const int SelfOffset = 16;
    private const ulong PageSize = 4096;
    private const ulong MaxStackBytes = 1UL << 40;

    // allocate_stack puts struct pthread at (block + size - TLS_TCB_SIZE) rounded down to the static TLS alignment.
    private const ulong MaxTopAboveTcb = 64 * 1024;

    private readonly byte[] _pthread = new byte[ScanBytes];

    /// <summary>The offsets learnt from the last thread whose <c>struct pthread</c> was recognised (null before).</summary>
    public PthreadStackFields? LearntFields { get; private set; }

    public ThreadStack Locate(int pid, int tid, ulong rsp, ulong fsBase, TargetMaps maps, IUnwindMemory memory)
    {
        TargetMapping? at = maps.Find(rsp);
        if (tid == pid && at is { IsMainStack: true } main)
        {
            return new ThreadStack(ThreadStackKind.MainThread, main.Start, main.End, 0, $"[stack] 0x{main.Start:x}-0x{main.End:x}");
        }

        int length = maps.Find(fsBase) is { } tls ? (int)Math.Min(ScanBytes, tls.End - fsBase) & ~7 : 0;
        Array.Clear(_pthread);
        if (fsBase == 0 || length < SelfOffset + 8 || !memory.TryRead(fsBase, _pthread.AsSpan(0, length)))
        {
            return ThreadStack.Unrecognised($"fs_base 0x{fsBase:x} points at no readable thread descriptor");
        }

        if (U64(SelfOffset) != fsBase)
        {
            return ThreadStack.Unrecognised($"fs_base 0x{fsBase:x} is not a glibc struct pthread (header.self does not point back at it)");
        }

        int found = -1;
        bool useLearnt = LearntFields is { } known && known.GuardSizeOffset + 8 <= length && IsStackTriple(known.StackBlockOffset, fsBase);
        if (useLearnt)
        {
            found = LearntFields!.Value.StackBlockOffset;
        }

        for (int k = 24; !useLearnt && k + 24 <= length; k += 8)
        {
            if (IsStackTriple(k, fsBase))
            {
                if (found >= 0)
                {
                    return ThreadStack.Unrecognised($"struct pthread at 0x{fsBase:x} has two candidate stack blocks (offsets {found} and {k})");
                }

                found = k;
            }
        }

        if (found < 0)
        {
            return tid == pid
                ? ThreadStack.Unrecognised($"rsp 0x{rsp:x} is not in [stack] and the main thread records no stack block")
                : ThreadStack.Unrecognised($"struct pthread at 0x{fsBase:x} records no stack block that holds it");
        }

        LearntFields = new PthreadStackFields(found);
        ulong block = U64(found);
        ulong size = U64(found + 8);
        ulong guard = U64(found + 16);
        ulong low = block + guard;
        ulong high = Math.Min(fsBase, block + size);
        if (rsp <= low || rsp > high)
        {
            return ThreadStack.Unrecognised($"rsp 0x{rsp:x} is outside the thread's stack block 0x{low:x}-0x{high:x} (a stack swapped in by the program?)");
        }

        if (maps.Find(low) is not { Writable: true } lowMap || at is not { Writable: true } rspMap || lowMap.Start != rspMap.Start)
        {
            return ThreadStack.Unrecognised($"the stack block 0x{low:x}-0x{high:x} is not one writable mapping");
        }

        return new ThreadStack(ThreadStackKind.PthreadBlock, low, high, guard, $"pthread stack block 0x{block:x}+{size} (guard {guard})");
    }

    private bool IsStackTriple(int k, ulong fsBase)
    {
        ulong block = U64(k);
        ulong size = U64(k + 8);
        ulong guard = U64(k + 16);
        return block != 0 && size != 0 && size <= MaxStackBytes && block <= fsBase && fsBase - block < size
            && block + size - fsBase <= MaxTopAboveTcb && guard < size && guard % PageSize == 0;
    }

    private ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(_pthread.AsSpan(at));
}
