namespace MemWatch.Probes.Allocators;

/// <summary>The <see cref="GlibcTrimModel"/> prediction for a whole process.</summary>
public sealed record GlibcTrimEstimate(IReadOnlyList<GlibcArenaTrimEstimate> Arenas, ulong PageSize, ulong Pad)
{
    /// <summary>The prediction: bins, consolidated fastbins and the main top.</summary>
    public ulong ReleasableBytes => Sum(a => a.TotalBytes);

    /// <summary>Without the fastbin part, which depends on where the fastbin chunks lie: a lower estimate.</summary>
    public ulong ReleasableWithoutFastbinsBytes => Sum(a => a.FromBinsBytes + a.FromTopBytes);

    private ulong Sum(Func<GlibcArenaTrimEstimate, ulong> part)
    {
        ulong total = 0;
        foreach (GlibcArenaTrimEstimate a in Arenas)
        {
            total += part(a);
        }

        return total;
    }
}
