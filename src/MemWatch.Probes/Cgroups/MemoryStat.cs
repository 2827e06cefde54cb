namespace MemWatch.Probes.Cgroups;

/// <summary>
/// A cgroup's <c>memory.stat</c> (kernel Documentation/admin-guide/cgroup-v2.rst, "memory.stat"; cgroup-v1/memory.rst
/// section 5.2), with the v1 and v2 names mapped to one set of properties. Null means the kernel did not report it.
/// </summary>
/// <remarks>
/// v2 counters are hierarchical (they include descendants). v1 reports local values (<c>rss</c>, <c>cache</c>)
/// and hierarchical <c>total_*</c> twins; the <c>total_*</c> value is used when present so both versions mean the
/// same thing. v1 <c>rss</c> maps to <see cref="AnonBytes"/>, <c>cache</c> to <see cref="FileBytes"/>,
/// <c>mapped_file</c> to <see cref="FileMappedBytes"/>, <c>rss_huge</c> to <see cref="AnonThpBytes"/>.
/// Keys that are not mapped here are ignored. All sizes are bytes; <see cref="PageFaults"/> and
/// <see cref="MajorPageFaults"/> are counts.
/// </remarks>
public sealed record MemoryStat
{
    public ulong? AnonBytes { get; init; }
    public ulong? FileBytes { get; init; }
    public ulong? ShmemBytes { get; init; }
    public ulong? FileMappedBytes { get; init; }
    public ulong? FileDirtyBytes { get; init; }
    public ulong? FileWritebackBytes { get; init; }
    public ulong? AnonThpBytes { get; init; }

    /// <summary>v2 <c>kernel</c>: all kernel memory charged to the cgroup (stacks, page tables, slab, percpu, ...).</summary>
    public ulong? KernelBytes { get; init; }
    public ulong? KernelStackBytes { get; init; }
    public ulong? PageTablesBytes { get; init; }

    /// <summary>v2 <c>sock</c>: network transmission buffers.</summary>
    public ulong? SockBytes { get; init; }
    public ulong? SlabReclaimableBytes { get; init; }
    public ulong? SlabUnreclaimableBytes { get; init; }

    /// <summary>v1 <c>swap</c> (present with swap accounting). In v2 swap usage is <c>memory.swap.current</c>.</summary>
    public ulong? SwapBytes { get; init; }
    public ulong? SwapCachedBytes { get; init; }
    public ulong? ActiveAnonBytes { get; init; }
    public ulong? InactiveAnonBytes { get; init; }
    public ulong? ActiveFileBytes { get; init; }
    public ulong? InactiveFileBytes { get; init; }
    public ulong? UnevictableBytes { get; init; }
    public ulong? PageFaults { get; init; }
    public ulong? MajorPageFaults { get; init; }

    /// <summary>v1 <c>hierarchical_memory_limit</c>: the effective limit from this cgroup and its ancestors; null when unlimited or absent.</summary>
    public ulong? HierarchicalLimitBytes { get; init; }

    /// <exception cref="ProcParseException">A line is not <c>key value</c> with a decimal value.</exception>
    public static MemoryStat Parse(ReadOnlySpan<byte> text, string source)
    {
        Span<ulong> local = stackalloc ulong[(int)Slot.Count];
        Span<ulong> total = stackalloc ulong[(int)Slot.Count];
        uint hasLocal = 0;
        uint hasTotal = 0;
        var reader = new FlatKeyedReader(text, source);
        while (reader.TryNext(out ReadOnlySpan<byte> key, out ulong value))
        {
            bool isTotal = key.StartsWith("total_"u8);
            Slot slot = Lookup(isTotal ? key["total_".Length..] : key);
            if (slot == Slot.Count)
            {
                continue;
            }

            if (isTotal)
            {
                total[(int)slot] = value;
                hasTotal |= 1u << (int)slot;
            }
            else
            {
                local[(int)slot] = value;
                hasLocal |= 1u << (int)slot;
            }
        }

        ulong[] values = new ulong[(int)Slot.Count];
        uint has = hasLocal | hasTotal;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (hasTotal & (1u << i)) != 0 ? total[i] : local[i];
        }

        ulong? Get(Slot s) => (has & (1u << (int)s)) != 0 ? values[(int)s] : null;
        ulong? limit = Get(Slot.HierarchicalLimit);
        return new MemoryStat
        {
            AnonBytes = Get(Slot.Anon),
            FileBytes = Get(Slot.File),
            ShmemBytes = Get(Slot.Shmem),
            FileMappedBytes = Get(Slot.FileMapped),
            FileDirtyBytes = Get(Slot.FileDirty),
            FileWritebackBytes = Get(Slot.FileWriteback),
            AnonThpBytes = Get(Slot.AnonThp),
            KernelBytes = Get(Slot.Kernel),
            KernelStackBytes = Get(Slot.KernelStack),
            PageTablesBytes = Get(Slot.PageTables),
            SockBytes = Get(Slot.Sock),
            SlabReclaimableBytes = Get(Slot.SlabReclaimable),
            SlabUnreclaimableBytes = Get(Slot.SlabUnreclaimable),
            SwapBytes = Get(Slot.Swap),
            SwapCachedBytes = Get(Slot.SwapCached),
            ActiveAnonBytes = Get(Slot.ActiveAnon),
            InactiveAnonBytes = Get(Slot.InactiveAnon),
            ActiveFileBytes = Get(Slot.ActiveFile),
            InactiveFileBytes = Get(Slot.InactiveFile),
            UnevictableBytes = Get(Slot.Unevictable),
            PageFaults = Get(Slot.PgFault),
            MajorPageFaults = Get(Slot.PgMajFault),
            HierarchicalLimitBytes = limit >= CgroupValueFile.V1UnlimitedThreshold ? null : limit,
        };
    }

    private static Slot Lookup(ReadOnlySpan<byte> key) => key switch
    {
        _ when key.SequenceEqual("anon"u8) || key.SequenceEqual("rss"u8) => Slot.Anon,
        _ when key.SequenceEqual("file"u8) || key.SequenceEqual("cache"u8) => Slot.File,
        _ when key.SequenceEqual("shmem"u8) => Slot.Shmem,
        _ when key.SequenceEqual("file_mapped"u8) || key.SequenceEqual("mapped_file"u8) => Slot.FileMapped,
        _ when key.SequenceEqual("file_dirty"u8) || key.SequenceEqual("dirty"u8) => Slot.FileDirty,
        _ when key.SequenceEqual("file_writeback"u8) || key.SequenceEqual("writeback"u8) => Slot.FileWriteback,
        _ when key.SequenceEqual("anon_thp"u8) || key.SequenceEqual("rss_huge"u8) => Slot.AnonThp,
        _ when key.SequenceEqual("kernel"u8) => Slot.Kernel,
        _ when key.SequenceEqual("kernel_stack"u8) => Slot.KernelStack,
        _ when key.SequenceEqual("pagetables"u8) => Slot.PageTables,
        _ when key.SequenceEqual("sock"u8) => Slot.Sock,
        _ when key.SequenceEqual("slab_reclaimable"u8) => Slot.SlabReclaimable,
        _ when key.SequenceEqual("slab_unreclaimable"u8) => Slot.SlabUnreclaimable,
        _ when key.SequenceEqual("swap"u8) => Slot.Swap,
        _ when key.SequenceEqual("swapcached"u8) => Slot.SwapCached,
        _ when key.SequenceEqual("active_anon"u8) => Slot.ActiveAnon,
        _ when key.SequenceEqual("inactive_anon"u8) => Slot.InactiveAnon,
        _ when key.SequenceEqual("active_file"u8) => Slot.ActiveFile,
        _ when key.SequenceEqual("inactive_file"u8) => Slot.InactiveFile,
        _ when key.SequenceEqual("unevictable"u8) => Slot.Unevictable,
        _ when key.SequenceEqual("pgfault"u8) => Slot.PgFault,
        _ when key.SequenceEqual("pgmajfault"u8) => Slot.PgMajFault,
        _ when key.SequenceEqual("hierarchical_memory_limit"u8) => Slot.HierarchicalLimit,
        _ => Slot.Count,
    };

    private enum Slot
    {
        Anon,
        File,
        Shmem,
        FileMapped,
        FileDirty,
        FileWriteback,
        AnonThp,
        Kernel,
        KernelStack,
        PageTables,
        Sock,
        SlabReclaimable,
        SlabUnreclaimable,
        Swap,
        SwapCached,
        ActiveAnon,
        InactiveAnon,
        ActiveFile,
        InactiveFile,
        Unevictable,
        PgFault,
        PgMajFault,
        HierarchicalLimit,
        Count,
    }
}
