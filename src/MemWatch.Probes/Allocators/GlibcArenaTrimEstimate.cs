namespace MemWatch.Probes.Allocators;

/// <summary>
/// What malloc_trim(0) is expected to release in one arena (heap number as in malloc_info): whole pages inside free
/// chunks of the bins mtrim scans, the consolidated fastbins (assumed contiguous), and, in the main arena only,
/// the top chunk above the pad.
/// </summary>
public readonly record struct GlibcArenaTrimEstimate(int Heap, ulong FromBinsBytes, ulong FromFastbinsBytes, ulong FromTopBytes)
{
    public ulong TotalBytes => FromBinsBytes + FromFastbinsBytes + FromTopBytes;
}
