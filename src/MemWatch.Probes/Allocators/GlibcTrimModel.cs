namespace MemWatch.Probes.Allocators;

/// <summary>
/// Predicts what glibc 2.36's <c>malloc_trim(pad)</c> would give back, from a malloc_info(3) snapshot
/// (malloc/malloc.c <c>mtrim</c> and <c>systrim</c>).
/// </summary>
/// <remarks>
/// <para>mtrim first consolidates the fastbins, then, in every arena, madvises the whole pages inside each free chunk of
/// the unsorted bin and of the bins from <c>bin_index(pagesize)</c> up, keeping the chunk header plus 48 bytes; then, for
/// the main arena only, systrim gives back the top chunk above <c>pad</c> through sbrk. Non-main tops are never trimmed.</para>
/// <para>malloc_info gives per-bin counts and totals, not chunk addresses, so the pages inside a chunk are an expectation
/// over its 16-byte alignment within a page. Consolidated fastbin chunks are assumed to coalesce into one block per arena
/// (true when they were freed from a contiguous run, as in a freed burst of small objects; an overestimate when they are
/// interleaved with live chunks), so that part is reported separately. Tcache chunks are in use for glibc and pin nothing here.</para>
/// </remarks>
public static class GlibcTrimModel
{
    /// <summary>sizeof(struct malloc_chunk): mtrim keeps this much of each free chunk before the first whole page.</summary>
    private const ulong ChunkHeaderKeptBytes = 48;

    /// <summary>MINSIZE on x86_64.</summary>
    private const ulong MinChunkBytes = 32;

    public static GlibcTrimEstimate Estimate(MallocInfoXml info, ulong pageSize, ulong pad = 0)
    {
        if (pageSize < 4096 || (pageSize & (pageSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "page size must be a power of two of at least 4096");
        }

        var arenas = new List<GlibcArenaTrimEstimate>(info.Heaps.Count);
        foreach (MallocInfoHeap heap in info.Heaps)
        {
            ulong bins = 0;
            foreach (MallocInfoBin bin in heap.Bins)
            {
                if (bin.Kind != MallocInfoBinKind.Fast && bin.Count > 0)
                {
                    bins += BinReleasableBytes(bin, pageSize);
                }
            }

            ulong fast = heap.FastBytes > 0 ? ExpectedWholePages(heap.FastBytes & ~15UL, pageSize) : 0;
            ulong top = heap.Number == 0 ? TopReleasableBytes(heap.TopBytes, pageSize, pad) : 0;
            arenas.Add(new GlibcArenaTrimEstimate(heap.Number, bins, fast, top));
        }

        return new GlibcTrimEstimate(arenas, pageSize, pad);
    }

    /// <summary>systrim: <c>ALIGN_DOWN(chunksize(top) - MINSIZE - 1 - pad, pagesize)</c> when positive.</summary>
    public static ulong TopReleasableBytes(ulong topBytes, ulong pageSize, ulong pad)
    {
        if (topBytes <= MinChunkBytes + 1 + pad)
        {
            return 0;
        }

        return (topBytes - MinChunkBytes - 1 - pad) & ~(pageSize - 1);
    }

    /// <summary>
    /// The expected whole pages mtrim madvises inside one free chunk of <paramref name="chunkBytes"/>, averaged over
    /// the chunk's possible 16-byte-aligned positions within a page.
    /// </summary>
    public static ulong ExpectedWholePages(ulong chunkBytes, ulong pageSize)
    {
        if (chunkBytes <= pageSize - 1 + ChunkHeaderKeptBytes)
        {
            return 0;
        }

        // The first madvised page starts at ALIGN_UP(chunk + 48, page) = chunk + 48 + u, u in {0, 16, ..., page-16}.
        ulong m = chunkBytes - ChunkHeaderKeptBytes;
        ulong q = m / pageSize;
        ulong r = m % pageSize;
        ulong positions = pageSize / 16;
        ulong withQ = Math.Min((r / 16) + 1, positions);
        UInt128 total = ((UInt128)q * withQ) + ((UInt128)(q - 1) * (positions - withQ));
        return (ulong)(total * pageSize / positions);
    }

    private static ulong BinReleasableBytes(MallocInfoBin bin, ulong pageSize)
    {
        // Regular bins print raw size words: drop the flag bits (each chunk carries at most 7).
        ulong from = bin.From & ~7UL;
        ulong to = bin.To & ~7UL;
        if (to <= pageSize - 1 + ChunkHeaderKeptBytes)
        {
            return 0;
        }

        if (from == to || bin.Count == 1)
        {
            return ExpectedWholePages(bin.Count == 1 ? bin.TotalBytes & ~15UL : to, pageSize) * (bin.Count == 1 ? 1 : bin.Count);
        }

        ulong average = (bin.TotalBytes / bin.Count) & ~15UL;
        return ExpectedWholePages(Math.Clamp(average, from, to), pageSize) * bin.Count;
    }
}
