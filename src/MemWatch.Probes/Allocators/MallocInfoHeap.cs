namespace MemWatch.Probes.Allocators;

/// <summary>
/// One <c>&lt;heap nr="N"&gt;</c> (arena) of glibc's malloc_info(3) output; heap 0 is the main arena.
/// <c>RestBytes</c> is the regular bins plus the top chunk, which malloc_info counts but does not list.
/// </summary>
public sealed record MallocInfoHeap(
    int Number,
    IReadOnlyList<MallocInfoBin> Bins,
    ulong FastCount,
    ulong FastBytes,
    ulong RestCount,
    ulong RestBytes,
    ulong SystemCurrentBytes,
    ulong SystemMaxBytes,
    ulong? AddressSpaceTotalBytes,
    ulong? AddressSpaceMprotectBytes,
    ulong? Subheaps)
{
    /// <summary>
    /// The top chunk: <c>rest</c> is <c>chunksize(top)</c> plus the raw totals of every regular and unsorted bin
    /// (glibc <c>__malloc_info</c>), so the difference is exact for the snapshot malloc_info took.
    /// </summary>
    public ulong TopBytes
    {
        get
        {
            ulong bins = 0;
            foreach (MallocInfoBin b in Bins)
            {
                if (b.Kind != MallocInfoBinKind.Fast)
                {
                    bins += b.TotalBytes;
                }
            }

            return RestBytes >= bins ? RestBytes - bins : 0;
        }
    }

    /// <summary>Bytes in regular and unsorted bins (free chunks other than fastbins and top).</summary>
    public ulong BinBytes => RestBytes - TopBytes;

    /// <summary>What the arena took from the system minus its free chunks; tcache chunks count as in use.</summary>
    public ulong InUseBytes => SystemCurrentBytes >= FastBytes + RestBytes ? SystemCurrentBytes - FastBytes - RestBytes : 0;
}
