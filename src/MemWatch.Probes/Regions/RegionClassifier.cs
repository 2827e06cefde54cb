using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Regions;

/// <summary>
/// Classifies every mapping of <c>/proc/PID/smaps</c> into a <see cref="RegionKind"/> in one streaming pass, in address
/// order, and sums totals per kind into a <see cref="MemoryLayout"/>. Reusable; not thread safe.
/// </summary>
/// <remarks>
/// <para>The classifier looks at one mapping ahead and remembers only what neighbours need: an arena heap's rw part and
/// its <c>---p</c> remainder up to the 64 MiB boundary, a guard page and the stack above it.</para>
/// <para>Evidence, where cheap (glibc 2.36 layouts, x86_64):</para>
/// <list type="bullet">
/// <item>glibc arena heap: a 64 MiB-aligned private anonymous rw mapping of at most 64 MiB whose first 8 bytes
/// (heap_info.ar_ptr, read through <c>/proc/PID/mem</c>) point at an arena, which glibc places right after a heap_info
/// (heap base + 0x30). Distinct ar_ptr values are the arena count. Without memory access: the rw part plus a
/// contiguous <c>---p</c> remainder must end exactly at the 64 MiB boundary, and each heap counts as an arena.
/// The kernel merges a full heap with a heap glibc maps right above it (both MAP_NORESERVE, the new one made rw before
/// it is touched), so one rw mapping may hold several heaps: each 64 MiB step of it must start with a heap_info.</item>
/// <item>glibc mmapped chunk: a private anonymous rw mapping of 128 KiB or more starting with a chunk header whose size
/// has IS_MMAPPED (0x2) and not NON_MAIN_ARENA (0x4), and (size &amp; ~7) + prev_size = the mapping length. Adjacent
/// chunk mappings that the kernel merged are followed header to header; a merged anonymous tail counts with them.</item>
/// <item>Thread stack: a private anonymous rw mapping holding a blocked thread's stack pointer
/// (<c>/proc/PID/task/TID/syscall</c>), or, for running threads and without access, a rw mapping of 128 KiB or more
/// right above a <c>---p</c> guard of at most 1 MiB; the guard counts as stack.</item>
/// <item>.NET GC (checked on .NET 10.0.12, which names no anonymous mapping): at start-up the GC reserves its regions
/// range (2 x physical memory, or a multiple of the hard limit in containers) as one PROT_NONE mapping and commits
/// regions inside it, so maps show one gapless run of private anonymous mappings, rw-p and ---p alternating, spanning
/// gigabytes. A run of 1 GiB or more with 512 MiB or more still reserved and some committed part is gc-heap when
/// <c>libcoreclr.so</c> is mapped. The GC's bookkeeping reservation lies next to it and is counted with it.</item>
/// <item>jemalloc/tcmalloc: when the process maps one of them, remaining private anonymous rw mappings of 1 MiB or more
/// are allocator-extent. gperftools tcmalloc takes memory with sbrk first, so most of it shows as heap.</item>
/// </list>
/// </remarks>
public sealed class RegionClassifier
{
    internal const ulong HeapMaxBytes = GlibcMappingHeaders.HeapMaxBytes;
    private const ulong MinMmapChunkBytes = 128UL << 10;
    private const ulong MaxGuardBytes = 1UL << 20;
    private const ulong MinLayoutStackBytes = 128UL << 10;

    private readonly Smaps _smaps;
    private readonly FileBuffer _smallFile = new(256);
    private readonly AllocatorDetector _allocators;
    private readonly RegionTotals[] _totals = new RegionTotals[RegionKindNames.Count];
    private readonly HashSet<ulong> _arenas = [];
    private readonly StackPointers _stackPointers = new();
    private readonly AnonymousRuns _runs = new();

    private IProcessMemory? _memory;
    private int _arenaHeapsByLayout;
    private bool _hasMainHeap;
    private int _mappingCount;
    private ulong _sizeBytes;
    private ulong _rssBytes;
    private ulong _pssBytes;
    private ulong _swapBytes;
    private int _threadStacksFound;

    private PendingMapping _prev;
    private bool _hasPrev;
    private ulong _remainderFrom;
    private ulong _remainderTo;
    private ulong _stackAt;

    /// <param name="hasSymbol">Optional ELF symbol lookup for <see cref="AllocatorDetector"/> (statically linked allocators).</param>
    /// <param name="smapsBufferBytes">Size of the reusable smaps read buffer.</param>
    public RegionClassifier(Func<string, string, bool>? hasSymbol = null, int smapsBufferBytes = Smaps.DefaultBufferBytes)
    {
        _smaps = new Smaps(smapsBufferBytes);
        _allocators = new AllocatorDetector(hasSymbol);
        Begin(null, []);
    }

    /// <summary>
    /// Classifies the mappings of a live process. Returns false when the process is gone (also when it exits mid-read).
    /// Without access to <c>/proc/PID/mem</c> the result rests on layout alone (<see cref="RegionEvidence.Layout"/>).
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">No access to the process's smaps.</exception>
    /// <exception cref="ProcParseException">Malformed smaps.</exception>
    public bool TryClassify(ProcFileSystem fs, int pid, [NotNullWhen(true)] out MemoryLayout? layout)
    {
        layout = null;
        ProcMem.TryOpen(fs, pid, out ProcMem? memory);
        try
        {
            var stackPointers = new List<ulong>();
            ThreadStackPointers.Read(fs, pid, _smallFile, stackPointers);
            if (!_smaps.TryOpen(fs, pid, out SmapsReader reader))
            {
                return false;
            }

            try
            {
                layout = Classify(ref reader, memory, stackPointers, fs.ProcessPath(pid, "root"));
                if (reader.ProcessExited)
                {
                    layout = null;
                    return false;
                }

                return true;
            }
            finally
            {
                reader.Dispose();
            }
        }
        finally
        {
            memory?.Dispose();
        }
    }

    /// <summary>Classifies the records of <paramref name="reader"/> (a live file or fixture text).</summary>
    internal MemoryLayout Classify(
        ref SmapsReader reader, IProcessMemory? memory, IReadOnlyList<ulong> stackPointers, string rootPrefix = "")
    {
        Begin(memory, stackPointers);
        _allocators.RootPrefix = rootPrefix;
        while (reader.MoveNext())
        {
            Add(reader.Current);
        }

        return Complete();
    }

    internal void Begin(IProcessMemory? memory, IReadOnlyList<ulong> stackPointers)
    {
        _memory = memory;
        _stackPointers.Reset(stackPointers);
        _allocators.Reset();
        for (int i = 0; i < _totals.Length; i++)
        {
            _totals[i] = new RegionTotals((RegionKind)i);
        }

        _arenas.Clear();
        _arenaHeapsByLayout = 0;
        _hasMainHeap = false;
        _mappingCount = 0;
        _sizeBytes = _rssBytes = _pssBytes = _swapBytes = 0;
        _threadStacksFound = 0;
        _hasPrev = false;
        _remainderFrom = _remainderTo = 0;
        _stackAt = ulong.MaxValue;
        _runs.Reset();
    }

    internal void Add(in SmapsEntry entry)
    {
        MappingHeader header = entry.Header;
        SmapsFields fields = entry.Fields;
        _allocators.Observe(header);
        _mappingCount++;
        _sizeBytes += header.SizeBytes;
        _rssBytes += fields.RssBytes;
        _pssBytes += fields.PssBytes;
        _swapBytes += fields.SwapBytes;

        var next = new PendingMapping
        {
            Start = header.StartAddress,
            End = header.EndAddress,
            Permissions = header.Permissions,
            PathKind = MappingPathKind.Of(header),
        };
        next.Amount.Add(header.SizeBytes, fields);
        if (next.PathKind == RegionKind.Heap)
        {
            _hasMainHeap = true;
        }

        if (_hasPrev)
        {
            Resolve(in _prev, in next, hasNext: true);
        }

        _prev = next;
        _hasPrev = true;
    }

    internal MemoryLayout Complete()
    {
        if (_hasPrev)
        {
            Resolve(in _prev, default, hasNext: false);
            _hasPrev = false;
        }

        _runs.Close();
        AllocatorInfo allocator = _allocators.Complete();
        _totals[(int)RegionKind.Anon].Add(_runs.Anon);
        RegionTotals extentCandidates = _runs.ExtentCandidates;
        if (allocator.DotNetRuntime)
        {
            _totals[(int)RegionKind.GcHeap].Add(_runs.GcAnon);
            _totals[(int)RegionKind.GcHeap].Add(_runs.GcExtent);
        }
        else
        {
            _totals[(int)RegionKind.Anon].Add(_runs.GcAnon);
            extentCandidates.Add(_runs.GcExtent);
        }

        RegionKind extentKind = allocator.Kind is AllocatorKind.Jemalloc or AllocatorKind.GperftoolsTcmalloc or AllocatorKind.GoogleTcmalloc
            ? RegionKind.AllocatorExtent
            : RegionKind.Anon;
        _totals[(int)extentKind].Add(extentCandidates);

        return new MemoryLayout
        {
            Regions = (RegionTotals[])_totals.Clone(),
            ArenaCount = _memory is not null ? _arenas.Count : _arenaHeapsByLayout,
            HasMainArena = _hasMainHeap,
            MappingCount = _mappingCount,
            SizeBytes = _sizeBytes,
            RssBytes = _rssBytes,
            PssBytes = _pssBytes,
            SwapBytes = _swapBytes,
            Evidence = _memory is not null ? RegionEvidence.Memory : RegionEvidence.Layout,
            Allocator = allocator,
            ThreadsWithStackPointer = _stackPointers.Count,
            ThreadStacksFound = _threadStacksFound,
        };
    }

    private void Resolve(in PendingMapping m, in PendingMapping next, bool hasNext)
    {
        if (m.PathKind != RegionKind.Anon)
        {
            _runs.Close();
            Commit(m.PathKind, in m);
            return;
        }

        RegionKind kind = ClassifyAnonymous(in m, in next, hasNext);
        _runs.Continue(in m);
        if (kind != RegionKind.Anon)
        {
            Commit(kind, in m);
            return;
        }

        _runs.AddUndecided(in m);
    }

    private RegionKind ClassifyAnonymous(in PendingMapping m, in PendingMapping next, bool hasNext)
    {
        if (m.IsNoAccess && m.Start == _remainderFrom && m.End <= _remainderTo)
        {
            return RegionKind.Arena;
        }

        if (m.Start == _stackAt)
        {
            return RegionKind.Stack;
        }

        if (m.IsReadWrite && (m.Start & (HeapMaxBytes - 1)) == 0 && IsArenaHeaps(in m, in next, hasNext))
        {
            _remainderFrom = m.End;
            _remainderTo = AlignToHeap(m.End);
            return RegionKind.Arena;
        }

        if (m.IsReadWrite && _stackPointers.CountWithin(m.Start, m.End) > 0)
        {
            return RegionKind.Stack;
        }

        if (m.IsNoAccess && m.Size <= MaxGuardBytes && hasNext && next.PathKind == RegionKind.Anon
            && next.Start == m.End && next.IsReadWrite && IsStackAboveGuard(in next))
        {
            _stackAt = next.Start;
            return RegionKind.Stack;
        }

        if (m.IsReadWrite && m.Size >= MinMmapChunkBytes && IsMmappedChunks(in m))
        {
            return RegionKind.MmapChunk;
        }

        return RegionKind.Anon;
    }

    private static bool IsArenaShaped(in PendingMapping m) => (m.Start & (HeapMaxBytes - 1)) == 0 && m.Size <= HeapMaxBytes;

    private static ulong AlignToHeap(ulong address) => (address + HeapMaxBytes - 1) & ~(HeapMaxBytes - 1);

    /// <summary>A 64 MiB-aligned rw mapping made of one or more arena heaps (several when the kernel merged them).</summary>
    private bool IsArenaHeaps(in PendingMapping m, in PendingMapping next, bool hasNext)
    {
        ulong heaps = (m.Size + HeapMaxBytes - 1) / HeapMaxBytes;
        if (heaps > GlibcMappingHeaders.MaxMergedHeaps)
        {
            return false;
        }

        if (_memory is not null)
        {
            Span<ulong> arenas = stackalloc ulong[GlibcMappingHeaders.MaxMergedHeaps];
            int found = GlibcMappingHeaders.ReadArenaPointers(_memory, m.Start, m.End, arenas);
            if (found < 0)
            {
                return false;
            }

            if (found > 0)
            {
                foreach (ulong arena in arenas[..found])
                {
                    _arenas.Add(arena);
                }

                return true;
            }
        }

        bool shaped = (m.End & (HeapMaxBytes - 1)) == 0
            || (hasNext && next.PathKind == RegionKind.Anon && next.IsNoAccess && next.Start == m.End
                && next.End == AlignToHeap(m.End));
        if (shaped)
        {
            _arenaHeapsByLayout += (int)heaps;
        }

        return shaped;
    }

    private bool IsStackAboveGuard(in PendingMapping candidate)
    {
        if (_stackPointers.CountWithin(candidate.Start, candidate.End) > 0)
        {
            return true;
        }

        return candidate.Size >= MinLayoutStackBytes
            && !IsArenaShaped(in candidate)
            && !(_memory is not null && candidate.Size >= MinMmapChunkBytes && IsMmappedChunks(in candidate));
    }

    private bool IsMmappedChunks(in PendingMapping m) =>
        _memory is not null && GlibcMappingHeaders.IsMmappedChunks(_memory, m.Start, m.End);

    private void Commit(RegionKind kind, in PendingMapping m)
    {
        _totals[(int)kind].Add(m.Amount);
        if (kind == RegionKind.Stack)
        {
            _threadStacksFound += _stackPointers.CountWithin(m.Start, m.End);
        }
    }
}
