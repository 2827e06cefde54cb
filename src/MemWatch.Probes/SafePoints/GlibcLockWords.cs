using System.Buffers.Binary;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.SafePoints;

/// <summary>
/// glibc's allocator and stdio lock words, located through libc6-dbg's <c>.symtab</c> (file-local symbols): each
/// arena's <c>mutex</c> (the first field of <c>struct malloc_state</c>) reached from <c>main_arena</c> through the
/// <c>next</c> ring, and <c>list_all_lock</c> (an <c>_IO_lock_t</c> {int lock; int cnt; void *owner}).
/// </summary>
/// <remarks>
/// <c>next</c> is the fifth-last pointer-sized field of <c>struct malloc_state</c> (next, next_free, attached_threads,
/// system_mem, max_system_mem end it in every glibc since 2.26), so its offset is the size of the <c>main_arena</c>
/// symbol minus 40; ThreadStackTests checks both against gdb's <c>ptype /o</c>. A word read as free while the thread
/// is stopped proves that thread does not hold the lock; a held arena mutex names no owner, so only the unwind can say
/// whether the stopped thread holds it, except in a single-threaded process, where it can only be that thread.
/// </remarks>
public sealed class GlibcLockWords
{
    private const int MaxArenas = 4096;
    private const ulong NextFromEnd = 40;

    private GlibcLockWords(ulong mainArena, ulong nextOffset, ulong listAllLock)
    {
        MainArena = mainArena;
        NextOffset = nextOffset;
        ListAllLock = listAllLock;
    }

    public ulong MainArena { get; }

    /// <summary>Offset of <c>next</c> in <c>struct malloc_state</c>.</summary>
    public ulong NextOffset { get; }

    /// <summary>Address of <c>list_all_lock</c>, or 0 when the debug file does not name it.</summary>
    public ulong ListAllLock { get; }

    /// <summary>Null when libc has no debug file (the lock words cannot be found) or no <c>main_arena</c>.</summary>
    public static GlibcLockWords? TryCreate(TargetSymbols symbols)
    {
        TargetModule? libc = symbols.FindModule("libc.so.6");
        if (libc?.DebugFile is null || !TargetSymbols.TryResolve(libc, "main_arena", out TargetSymbolAddress arena) || arena.Size <= NextFromEnd)
        {
            return null;
        }

        ulong listAll = TargetSymbols.TryResolve(libc, "list_all_lock", out TargetSymbolAddress l) && l.Size == 16 ? l.Address : 0;
        return new GlibcLockWords(arena.Address, arena.Size - NextFromEnd, listAll);
    }

    /// <summary>
    /// Reads every arena mutex (main_arena first) and list_all_lock. False with <paramref name="problem"/> when the
    /// ring cannot be walked (unreadable, or it does not come back to main_arena).
    /// </summary>
    public bool TryRead(IUnwindMemory memory, List<LockWord> words, out string? problem)
    {
        problem = null;
        Span<byte> b = stackalloc byte[16];
        ulong arena = MainArena;
        for (int i = 0; i < MaxArenas; i++)
        {
            if (!memory.TryRead(arena, b[..4]) || !memory.TryReadU64(arena + NextOffset, out ulong next))
            {
                problem = $"arena at 0x{arena:x} is unreadable";
                return false;
            }

            words.Add(new LockWord(i == 0 ? "main_arena.mutex" : $"arena 0x{arena:x} mutex", arena, BinaryPrimitives.ReadInt32LittleEndian(b), 0));
            if (next == MainArena)
            {
                break;
            }

            if (i == MaxArenas - 1)
            {
                problem = $"the arena ring from main_arena does not close within {MaxArenas} arenas";
                return false;
            }

            arena = next;
        }

        if (ListAllLock != 0)
        {
            if (!memory.TryRead(ListAllLock, b))
            {
                problem = "list_all_lock is unreadable";
                return false;
            }

            words.Add(new LockWord("list_all_lock", ListAllLock, BinaryPrimitives.ReadInt32LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..])));
        }

        return true;
    }
}
