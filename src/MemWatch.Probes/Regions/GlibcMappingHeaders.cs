using System.Buffers.Binary;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Regions;

/// <summary>
/// What glibc writes at the start of its own mappings, read through <c>/proc/PID/mem</c> (glibc 2.36, x86_64): the
/// heap_info of each 64 MiB arena heap and the chunk header of each mmapped chunk. Used by
/// <see cref="RegionClassifier"/> to confirm what the layout suggests.
/// </summary>
internal static class GlibcMappingHeaders
{
    /// <summary>An arena heap's size and alignment (HEAP_MAX_SIZE).</summary>
    public const ulong HeapMaxBytes = 64UL << 20;
    private const ulong ArenaOffsetInHeap = 0x30;
    public const int MaxMergedHeaps = 64;
    private const int MaxMergedChunks = 64;

    /// <summary>
    /// Reads the heap_info at each 64 MiB step of a 64 MiB-aligned mapping into <paramref name="arenas"/> (its ar_ptr,
    /// which points right after the first heap's heap_info). Returns how many were read; 0 when the first cannot be
    /// read (the layout must decide); -1 when a step holds no heap_info or cannot be read: not arena heaps.
    /// </summary>
    public static int ReadArenaPointers(IProcessMemory memory, ulong start, ulong end, Span<ulong> arenas)
    {
        Span<byte> heapInfo = stackalloc byte[24];
        int found = 0;
        for (ulong at = start; at < end; at += HeapMaxBytes)
        {
            if (!memory.TryRead(at, heapInfo))
            {
                if (at == start)
                {
                    break;
                }

                return -1;
            }

            ulong arena = BinaryPrimitives.ReadUInt64LittleEndian(heapInfo);
            ulong heapSize = BinaryPrimitives.ReadUInt64LittleEndian(heapInfo[16..]);
            if ((arena & (HeapMaxBytes - 1)) != ArenaOffsetInHeap || heapSize == 0 || heapSize > HeapMaxBytes)
            {
                return -1;
            }

            arenas[found++] = arena;
        }

        return found;
    }

    // glibc 2.36 sysmalloc: an mmapped chunk starts its mapping with prev_size = alignment correction (0 on x86_64) and
    // size = (mapping length - correction) | IS_MMAPPED. The kernel merges a chunk's mapping with anonymous neighbours
    // mapped earlier above it (and with other chunks), so headers are followed from the start while they are valid, and
    // the mapping counts as mmap-chunk when chunks cover at least half of it.
    public static bool IsMmappedChunks(IProcessMemory memory, ulong start, ulong end)
    {
        Span<byte> header = stackalloc byte[16];
        ulong at = start;
        for (int i = 0; i < MaxMergedChunks && at < end; i++)
        {
            if (!memory.TryRead(at, header))
            {
                break;
            }

            ulong prevSize = BinaryPrimitives.ReadUInt64LittleEndian(header);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            ulong chunk = size & ~7UL;
            ulong left = end - at;
            if ((size & 0x6) != 0x2 || (prevSize & 0xf) != 0 || prevSize >= 4096 || chunk < 4096 || chunk > left - Math.Min(left, prevSize))
            {
                break;
            }

            at += chunk + prevSize;
        }

        return at - start >= (end - start) / 2;
    }
}
