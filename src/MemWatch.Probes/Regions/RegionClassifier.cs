using System.Buffers.Binary;
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
/// <para>Evidence, where cheap (glibc 2.36 layouts, allocator-internals §1.3, §1.4, §1.7):</para>
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
    internal const ulong HeapMaxBytes = 64UL << 20;
    private const ulong ArenaOffsetInHeap = 0x30;
    private const int MaxMergedHeaps = 64;
    private const ulong MinMmapChunkBytes = 128UL << 10;
    private const int MaxMergedChunks = 64;
    private const ulong MaxGuardBytes = 1UL << 20;
    private const ulong MinLayoutStackBytes = 128UL << 10;
    private const ulong MinExtentBytes = 1UL << 20;
    private const ulong MinGcRunBytes = 1UL << 30;
    private const ulong MinGcReservedBytes = 512UL << 20;

    private readonly Smaps _smaps;
    private readonly FileBuffer _smallFile = new(256);
    private readonly AllocatorDetector _allocators;
    private readonly RegionTotals[] _totals = new RegionTotals[RegionKindNames.Count];
    private readonly HashSet<ulong> _arenas = [];
    private readonly List<ulong> _stackPointers = [];

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

    private bool _inRun;
    private ulong _runStart;
    private ulong _runEnd;
    private ulong _runReservedBytes;
    private bool _runCommitted;
    private RegionTotals _runAnon;
    private RegionTotals _runExtent;
    private RegionTotals _gcAnon;
    private RegionTotals _gcExtent;
    private RegionTotals _extentCandidates;

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
        _stackPointers.Clear();
        _stackPointers.AddRange(stackPointers);
        _stackPointers.Sort();
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
        _inRun = false;
        _runAnon = _runExtent = _gcAnon = _gcExtent = _extentCandidates = default;
        _runReservedBytes = 0;
        _runCommitted = false;
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
            PathKind = PathKind(header),
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

        CloseRun();
        AllocatorInfo allocator = _allocators.Complete();
        if (allocator.DotNetRuntime)
        {
            _totals[(int)RegionKind.GcHeap].Add(_gcAnon);
            _totals[(int)RegionKind.GcHeap].Add(_gcExtent);
        }
        else
        {
            _totals[(int)RegionKind.Anon].Add(_gcAnon);
            _extentCandidates.Add(_gcExtent);
        }

        RegionKind extentKind = allocator.Kind is AllocatorKind.Jemalloc or AllocatorKind.GperftoolsTcmalloc or AllocatorKind.GoogleTcmalloc
            ? RegionKind.AllocatorExtent
            : RegionKind.Anon;
        _totals[(int)extentKind].Add(_extentCandidates);

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

    private static RegionKind PathKind(in MappingHeader header)
    {
        ReadOnlySpan<byte> path = header.Path;
        bool shared = header.IsShared;
        if (path.IsEmpty)
        {
            return shared ? RegionKind.Shmem : RegionKind.Anon;
        }

        if (path[0] == (byte)'[')
        {
            if (path.SequenceEqual("[heap]"u8))
            {
                return RegionKind.Heap;
            }

            if (path.StartsWith("[stack"u8))
            {
                return RegionKind.Stack;
            }

            if (path.StartsWith("[anon_shmem:"u8))
            {
                return RegionKind.Shmem;
            }

            if (path.StartsWith("[anon:"u8))
            {
                return shared ? RegionKind.Shmem : RegionKind.Anon;
            }

            return RegionKind.Kernel;
        }

        if (path.StartsWith("/dev/shm/"u8) || path.StartsWith("/SYSV"u8) || path.StartsWith("/memfd:"u8))
        {
            return RegionKind.Shmem;
        }

        if (path.StartsWith("/dev/zero"u8))
        {
            return shared ? RegionKind.Shmem : RegionKind.Anon;
        }

        return (header.Permissions & MappingPermissions.Execute) != 0 ? RegionKind.FileCode : RegionKind.FileData;
    }

    private void Resolve(in PendingMapping m, in PendingMapping next, bool hasNext)
    {
        if (m.PathKind != RegionKind.Anon)
        {
            CloseRun();
            Commit(m.PathKind, in m);
            return;
        }

        RegionKind kind = ClassifyAnonymous(in m, in next, hasNext);
        if (!_inRun || m.Start != _runEnd)
        {
            CloseRun();
            _inRun = true;
            _runStart = m.Start;
        }

        _runEnd = m.End;
        if (kind != RegionKind.Anon)
        {
            Commit(kind, in m);
            return;
        }

        if (m.IsNoAccess)
        {
            _runReservedBytes += m.Size;
        }
        else if (m.IsReadWrite)
        {
            _runCommitted = true;
        }

        if (m.IsReadWrite && m.Size >= MinExtentBytes)
        {
            _runExtent.Add(m.Amount);
        }
        else
        {
            _runAnon.Add(m.Amount);
        }
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

        if (m.IsReadWrite && CountStackPointers(m.Start, m.End) > 0)
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
        if (heaps > MaxMergedHeaps)
        {
            return false;
        }

        if (_memory is not null)
        {
            Span<byte> heapInfo = stackalloc byte[24];
            Span<ulong> arenas = stackalloc ulong[MaxMergedHeaps];
            int found = 0;
            for (ulong at = m.Start; at < m.End; at += HeapMaxBytes)
            {
                if (!_memory.TryRead(at, heapInfo))
                {
                    if (at == m.Start)
                    {
                        break;
                    }

                    return false;
                }

                ulong arena = BinaryPrimitives.ReadUInt64LittleEndian(heapInfo);
                ulong heapSize = BinaryPrimitives.ReadUInt64LittleEndian(heapInfo[16..]);
                if ((arena & (HeapMaxBytes - 1)) != ArenaOffsetInHeap || heapSize == 0 || heapSize > HeapMaxBytes)
                {
                    return false;
                }

                arenas[found++] = arena;
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
        if (CountStackPointers(candidate.Start, candidate.End) > 0)
        {
            return true;
        }

        return candidate.Size >= MinLayoutStackBytes
            && !IsArenaShaped(in candidate)
            && !(_memory is not null && candidate.Size >= MinMmapChunkBytes && IsMmappedChunks(in candidate));
    }

    // glibc 2.36 sysmalloc: an mmapped chunk starts its mapping with prev_size = alignment correction (0 on x86_64) and
    // size = (mapping length - correction) | IS_MMAPPED. The kernel merges a chunk's mapping with anonymous neighbours
    // mapped earlier above it (and with other chunks), so headers are followed from the start while they are valid, and
    // the mapping counts as mmap-chunk when chunks cover at least half of it.
    private bool IsMmappedChunks(in PendingMapping m)
    {
        if (_memory is null)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[16];
        ulong at = m.Start;
        for (int i = 0; i < MaxMergedChunks && at < m.End; i++)
        {
            if (!_memory.TryRead(at, header))
            {
                break;
            }

            ulong prevSize = BinaryPrimitives.ReadUInt64LittleEndian(header);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            ulong chunk = size & ~7UL;
            ulong left = m.End - at;
            if ((size & 0x6) != 0x2 || (prevSize & 0xf) != 0 || prevSize >= 4096 || chunk < 4096 || chunk > left - Math.Min(left, prevSize))
            {
                break;
            }

            at += chunk + prevSize;
        }

        return at - m.Start >= m.Size / 2;
    }

    private int CountStackPointers(ulong start, ulong end)
    {
        if (_stackPointers.Count == 0)
        {
            return 0;
        }

        int i = _stackPointers.BinarySearch(start);
        if (i < 0)
        {
            i = ~i;
        }

        while (i > 0 && _stackPointers[i - 1] == start)
        {
            i--;
        }

        int n = 0;
        while (i < _stackPointers.Count && _stackPointers[i] < end)
        {
            n++;
            i++;
        }

        return n;
    }

    private void Commit(RegionKind kind, in PendingMapping m)
    {
        _totals[(int)kind].Add(m.Amount);
        if (kind == RegionKind.Stack)
        {
            _threadStacksFound += CountStackPointers(m.Start, m.End);
        }
    }

    // Ends the current run of contiguous private anonymous mappings: its undecided memory is the .NET GC's regions
    // reservation when the run is shaped like one, else anonymous memory (or allocator extents).
    private void CloseRun()
    {
        if (!_inRun)
        {
            return;
        }

        if (_runEnd - _runStart >= MinGcRunBytes && _runReservedBytes >= MinGcReservedBytes && _runCommitted)
        {
            _gcAnon.Add(_runAnon);
            _gcExtent.Add(_runExtent);
        }
        else
        {
            _totals[(int)RegionKind.Anon].Add(_runAnon);
            _extentCandidates.Add(_runExtent);
        }

        _inRun = false;
        _runAnon = _runExtent = default;
        _runReservedBytes = 0;
        _runCommitted = false;
    }
}
