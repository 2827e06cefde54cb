using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Regions;

/// <summary>Totals of the mappings of one <see cref="RegionKind"/>, from <c>/proc/PID/smaps</c>.</summary>
public struct RegionTotals
{
    public RegionTotals(RegionKind kind)
    {
        Kind = kind;
    }

    public RegionKind Kind { readonly get; internal set; }

    /// <summary>Number of mappings (smaps records).</summary>
    public int Count { readonly get; internal set; }

    /// <summary>Virtual size.</summary>
    public ulong SizeBytes { readonly get; internal set; }

    public ulong RssBytes { readonly get; internal set; }

    public ulong PssBytes { readonly get; internal set; }

    public ulong PrivateDirtyBytes { readonly get; internal set; }

    public ulong SwapBytes { readonly get; internal set; }

    /// <summary>Resident bytes in transparent huge pages (smaps AnonHugePages): a huge page stays whole while any of it is used.</summary>
    public ulong AnonHugePagesBytes { readonly get; internal set; }

    /// <summary>Pages given back with MADV_FREE and not yet reclaimed (smaps LazyFree): still counted in RSS.</summary>
    public ulong LazyFreeBytes { readonly get; internal set; }

    /// <summary>Stable name of <see cref="Kind"/>.</summary>
    public readonly string Name => Kind.ToName();

    internal void Add(ulong sizeBytes, in SmapsFields fields)
    {
        Count++;
        SizeBytes += sizeBytes;
        RssBytes += fields.RssBytes;
        PssBytes += fields.PssBytes;
        PrivateDirtyBytes += fields.PrivateDirtyBytes;
        SwapBytes += fields.SwapBytes;
        AnonHugePagesBytes += fields.AnonHugePagesBytes;
        LazyFreeBytes += fields.LazyFreeBytes;
    }

    internal void Add(in RegionTotals other)
    {
        Count += other.Count;
        SizeBytes += other.SizeBytes;
        RssBytes += other.RssBytes;
        PssBytes += other.PssBytes;
        PrivateDirtyBytes += other.PrivateDirtyBytes;
        SwapBytes += other.SwapBytes;
        AnonHugePagesBytes += other.AnonHugePagesBytes;
        LazyFreeBytes += other.LazyFreeBytes;
    }
}
