using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Injection;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Allocators;

/// <summary>
/// glibc ptmalloc through remote calls: <c>mallinfo2</c> (mallinfo(3)), <c>malloc_info</c> (malloc_info(3)) written to an
/// <c>open_memstream</c> (open_memstream(3)) and parsed, and <c>malloc_trim(0)</c> (malloc_trim(3)).
/// </summary>
internal sealed class GlibcIntrospector : IAllocatorIntrospector
{
    private const int MallinfoBytes = 80;

    private const int ScratchBytes = MallinfoBytes;

    // open_memstream keeps &buf and &size and writes them at fclose, a later call that may run on another thread or
    // after the thread moved its stack: they must live in the target's heap, not in a call's stack scratch block.
    private const ulong MemstreamLocationsBytes = 16;
    private const ulong MaxMallocInfoBytes = 64UL * 1024 * 1024;

    private static readonly string[] s_mallinfo2Fields = ["arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"];

    private readonly ulong _mallinfo2;
    private readonly ulong _mallocInfo;
    private readonly ulong _mallocTrim;
    private readonly ulong _openMemstream;
    private readonly ulong _fclose;
    private readonly ulong _free;
    private readonly ulong _malloc;
    private readonly ulong _pageSize;

    private GlibcIntrospector(TargetModule libc, ulong mallinfo2, ulong mallocInfo, ulong mallocTrim, ulong openMemstream, ulong fclose, ulong free, ulong malloc)
    {
        _malloc = malloc;
        _mallinfo2 = mallinfo2;
        _mallocInfo = mallocInfo;
        _mallocTrim = mallocTrim;
        _openMemstream = openMemstream;
        _fclose = fclose;
        _free = free;
        _pageSize = (ulong)Environment.SystemPageSize;
        UnsafeCodeRanges = MallocCodeRanges(libc);
    }

    public string Allocator => "glibc";

    public bool IsSupported => true;

    public string? NotSupportedReason => null;

    public IReadOnlyList<(ulong Start, ulong End)> UnsafeCodeRanges { get; }

    /// <summary>mallinfo2 and malloc_trim take the arena locks one at a time and block only while acquiring one.</summary>
    internal IReadOnlyList<ulong> LockStepCallees => [_mallinfo2, _mallocTrim];

    /// <summary>Binds to the target's libc.so.6 when it exports everything needed; otherwise false with the reason.</summary>
    public static bool TryCreate(TargetSymbols symbols, [NotNullWhen(true)] out GlibcIntrospector? introspector, [NotNullWhen(false)] out string? reason)
    {
        introspector = null;
        TargetModule? libc = symbols.FindModule("libc.so.6");
        if (libc is null)
        {
            reason = "no glibc (libc.so.6) is mapped";
            return false;
        }

        ulong[] addresses = new ulong[7];
        string[] names = ["mallinfo2", "malloc_info", "malloc_trim", "open_memstream", "fclose", "free", "malloc"];
        for (int i = 0; i < names.Length; i++)
        {
            if (!libc.Elf.TryFindDynamicSymbol(names[i], out ElfSymbol s) || s.Type != ElfSymbolType.Function)
            {
                reason = $"{libc.Path} does not export {names[i]} (mallinfo2 needs glibc 2.33 or later)";
                return false;
            }

            addresses[i] = libc.AddressOf(s);
        }

        introspector = new GlibcIntrospector(libc, addresses[0], addresses[1], addresses[2], addresses[3], addresses[4], addresses[5], addresses[6]);
        reason = null;
        return true;
    }

    public AllocatorStatistics ReadStatistics(IRemoteCallSession session, TimeSpan callTimeout)
    {
        var ledger = new RemoteCallLedger(session, callTimeout);
        var properties = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var notes = new List<string>();

        // mallinfo2 returns an 80-byte struct: MEMORY class, so the caller passes the result address as a hidden
        // first argument in rdi (x86-64 psABI 3.2.3). It goes first so malloc_info's own allocations do not show in it.
        Span<byte> scratch = stackalloc byte[ScratchBytes];
        scratch.Clear();
        ledger.Call(_mallinfo2, [RemoteArg.Scratch(0)], scratch);
        for (int i = 0; i < s_mallinfo2Fields.Length; i++)
        {
            properties["mallinfo2." + s_mallinfo2Fields[i]] = BinaryPrimitives.ReadUInt64LittleEndian(scratch[(i * 8)..]);
        }

        MallocInfoXml info = MallocInfoXml.Parse(ReadMallocInfo(ledger), $"malloc_info of {session.Pid}");
        GlibcTrimEstimate estimate = GlibcTrimModel.Estimate(info, _pageSize, pad: 0);

        var arenas = new List<ArenaStatistics>(info.Heaps.Count);
        for (int i = 0; i < info.Heaps.Count; i++)
        {
            MallocInfoHeap h = info.Heaps[i];
            arenas.Add(new ArenaStatistics(h.Number, h.SystemCurrentBytes, h.InUseBytes, h.FastBytes, null, h.BinBytes, h.TopBytes, estimate.Arenas[i].TotalBytes));
        }

        ulong free = info.FastBytes + info.RestBytes;
        ulong inUse = (info.SystemCurrentBytes >= free ? info.SystemCurrentBytes - free : 0) + info.MmapBytes;
        notes.Add("in use includes chunks cached in tcaches and mmapped chunks; free counts pages already returned by an earlier trim (glibc still owns them)");
        notes.Add($"releasable is a model estimate: {estimate.ReleasableWithoutFastbinsBytes} bytes from bins and the main top, plus {estimate.ReleasableBytes - estimate.ReleasableWithoutFastbinsBytes} from fastbins if they coalesce");
        return new AllocatorStatistics(Allocator, inUse, free, estimate.ReleasableBytes, info.SystemCurrentBytes + info.MmapBytes, info.Heaps.Count,
            arenas, properties, ledger.PauseMicrosecondsMax, ledger.PauseMicrosecondsTotal, ledger.Calls, notes)
        {
            TrimEstimate = estimate,
            MallocInfo = info,
        };
    }

    public ReleaseResult Release(IRemoteCallSession session, TimeSpan callTimeout)
    {
        RemoteCallResult r = session.Call(_mallocTrim, [RemoteArg.Int(0UL)], [], callTimeout);
        bool released = (r.ReturnValue & 0xffffffff) != 0;
        return new ReleaseResult(Allocator, released ? ReleaseOutcome.Released : ReleaseOutcome.NothingReleased,
            released ? "malloc_trim(0) returned 1: memory was released (madvise of free pages and/or sbrk of the main top)"
                     : "malloc_trim(0) returned 0: no free page could be released (free memory is pinned below live chunks, in tcaches, or in non-main arena tops)",
            r.ReturnValue, r.PauseMicroseconds, r.CalleeMicroseconds);
    }

    /// <summary>
    /// Runs <c>loc = malloc(16)</c>, <c>fp = open_memstream(&amp;loc[0], &amp;loc[1])</c>, <c>malloc_info(0, fp)</c>,
    /// <c>fclose(fp)</c>, reads <c>loc</c> and the buffer it names, then <c>free(buffer)</c> and <c>free(loc)</c>.
    /// </summary>
    /// <remarks>
    /// Unlike mallinfo2 this allocates in the target: the two pointers, open_memstream's FILE and buffer (a BUFSIZ
    /// request, large enough to consolidate that arena's fastbins first, as any large malloc would), and the buffer's
    /// growth by realloc in malloc_info's fprintf, all in the arena and tcache of the thread the engine borrowed. That
    /// is safe because the engine's gate starts a call only when that thread is outside <see cref="UnsafeCodeRanges"/>
    /// (instruction pointer and return addresses), so it holds no arena lock and is not halfway through a tcache update;
    /// malloc_info releases each arena lock before it prints; other threads keep running, so a lock they hold is
    /// released soon; and every allocation is paired (fclose frees the FILE, free the buffer and the pointers).
    /// <para>Every failure rolls back: once open_memstream may have linked a FILE into <c>_IO_list_all</c>, fclose is
    /// always called, even when malloc_info failed; and <c>loc</c>, which that FILE writes through at fclose and at exit,
    /// is freed only after an fclose that completed. A FILE that cannot be closed (its call was left running, or the
    /// process is gone) keeps its 16 bytes: a leak, never a FILE pointing at freed memory.</para>
    /// </remarks>
    private byte[] ReadMallocInfo(RemoteCallLedger ledger)
    {
        Span<byte> scratch = stackalloc byte[ScratchBytes];
        ulong locations = ledger.Call(_malloc, [RemoteArg.Int(MemstreamLocationsBytes)], []).ReturnValue;
        if (locations == 0)
        {
            throw new RemoteCallException(RemoteCallFailure.CalleeFault, "malloc(16) returned NULL in the target");
        }

        bool fileMayBeOpen = true;
        ulong buffer = 0;
        try
        {
            ulong fp = ledger.Call(_openMemstream, [RemoteArg.Int(locations), RemoteArg.Int(locations + 8)], []).ReturnValue;
            if (fp == 0)
            {
                fileMayBeOpen = false;
                throw new RemoteCallException(RemoteCallFailure.CalleeFault, "open_memstream returned NULL in the target (out of memory?)");
            }

            RemoteCallResult info;
            try
            {
                info = ledger.Call(_mallocInfo, [RemoteArg.Int(0UL), RemoteArg.Int(fp)], []);
            }
            catch (RemoteCallException e) when (!e.LeftInCallee && e.Reason != RemoteCallFailure.ProcessExited)
            {
                CloseStream(ledger, fp, locations, scratch, ref buffer);
                fileMayBeOpen = false;
                throw;
            }

            RemoteCallResult close = CloseStream(ledger, fp, locations, scratch, ref buffer);
            fileMayBeOpen = false;
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(scratch[8..]);
            if ((int)info.ReturnValue != 0 || (int)close.ReturnValue != 0)
            {
                throw new RemoteCallException(RemoteCallFailure.CalleeFault,
                    $"malloc_info returned {(int)info.ReturnValue} and fclose {(int)close.ReturnValue} in the target");
            }

            if (buffer == 0 || size == 0 || size > MaxMallocInfoBytes)
            {
                throw new RemoteCallException(RemoteCallFailure.CalleeFault,
                    $"the memory stream in the target reported buffer 0x{buffer:x} of {size} bytes");
            }

            byte[] xml = new byte[size];
            ledger.Session.ReadMemory(buffer, xml);
            return xml;
        }
        finally
        {
            if (buffer != 0)
            {
                ledger.Call(_free, [RemoteArg.Int(buffer)], []);
            }

            if (!fileMayBeOpen)
            {
                ledger.Call(_free, [RemoteArg.Int(locations)], []);
            }
        }
    }

    /// <summary>fclose(fp), then reads the buffer address and size it stored at <paramref name="locations"/> into <paramref name="scratch"/>.</summary>
    private RemoteCallResult CloseStream(RemoteCallLedger ledger, ulong fp, ulong locations, Span<byte> scratch, ref ulong buffer)
    {
        RemoteCallResult close = ledger.Call(_fclose, [RemoteArg.Int(fp)], []);
        ledger.Session.ReadMemory(locations, scratch[..16]);
        buffer = BinaryPrimitives.ReadUInt64LittleEndian(scratch);
        return close;
    }

    /// <summary>
    /// The code of malloc/malloc.c and arena.c. With the debug file every allocator function (including the static
    /// _int_malloc, _int_free, malloc_consolidate, sysmalloc) has an exact range. Without it only the exported entry points
    /// are known; the static helpers sit between them in the same translation unit, so the range is the hull of the
    /// exported allocator functions widened to the nearest exported non-allocator functions on each side.
    /// </summary>
    internal static IReadOnlyList<(ulong Start, ulong End)> MallocCodeRanges(TargetModule libc)
    {
        if (libc.DebugFile is not null)
        {
            return TargetSymbols.FunctionRanges(libc, IsMallocFunction);
        }

        var functions = new List<ElfSymbol>();
        foreach (ElfSymbol s in libc.Elf.DynamicSymbols)
        {
            if (s.Type == ElfSymbolType.Function && s.Size > 0)
            {
                functions.Add(s);
            }
        }

        functions.Sort((a, b) => a.Value.CompareTo(b.Value));
        int first = functions.FindIndex(s => IsMallocFunction(s.Name));
        int last = functions.FindLastIndex(s => IsMallocFunction(s.Name));
        if (first < 0)
        {
            return [];
        }

        ulong low = functions[first].Value;
        for (int i = first - 1; i >= 0; i--)
        {
            if (!IsMallocFunction(functions[i].Name))
            {
                low = Math.Min(low, functions[i].Value + functions[i].Size);
                break;
            }
        }

        ulong high = functions[last].Value + functions[last].Size;
        for (int i = last + 1; i < functions.Count; i++)
        {
            if (!IsMallocFunction(functions[i].Name) && functions[i].Value >= high)
            {
                high = functions[i].Value;
                break;
            }
        }

        return [(libc.AddressOf(functions[first] with { Value = low }), libc.AddressOf(functions[first] with { Value = high }))];
    }

    internal static bool IsMallocFunction(string name)
    {
        string n = name.StartsWith("__GI_", StringComparison.Ordinal) ? name[5..] : name;
        if (n.StartsWith("__libc_", StringComparison.Ordinal))
        {
            n = n[7..];
        }

        if (n.StartsWith("__malloc", StringComparison.Ordinal) || n.StartsWith("_int_", StringComparison.Ordinal)
            || n.StartsWith("malloc", StringComparison.Ordinal) || n.StartsWith("mallinfo", StringComparison.Ordinal)
            || n.StartsWith("tcache_", StringComparison.Ordinal) || n.StartsWith("sysmalloc", StringComparison.Ordinal)
            || n.StartsWith("_dl_tunable_set_", StringComparison.Ordinal))
        {
            return true;
        }

        return n switch
        {
            "free" or "__free" or "cfree" or "realloc" or "__realloc" or "calloc" or "__calloc" or "memalign" or "__memalign"
                or "aligned_alloc" or "valloc" or "__valloc" or "pvalloc" or "__pvalloc" or "posix_memalign" or "__posix_memalign"
                or "mallopt" or "__mallopt" or "__mallinfo" or "__mallinfo2" or "reallocarray" or "systrim" or "mtrim"
                or "int_mallinfo" or "arena_get2" or "arena_get_retry" or "alloc_new_heap" or "new_heap" or "shrink_heap"
                or "heap_trim" or "unlink_chunk" or "munmap_chunk" or "mremap_chunk" or "ptmalloc_init" or "_mid_memalign"
                or "detach_arena" or "malloc_printerr" or "__default_morecore" or "__glibc_morecore" or "alloc_perturb"
                or "malloc_consolidate" => true,
            _ => false,
        };
    }
}
