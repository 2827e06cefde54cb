using MemWatch.Probes.Regions;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// A .NET process's resident memory split by who holds it, from the runtime's GC counters and the smaps region model
/// (docs/dotnet.md explains the method and its limits).
/// </summary>
/// <remarks>
/// The GC figures are the runtime's own accounting (committed is not necessarily resident); the native figures are RSS
/// of region kinds. <see cref="RuntimeNativeBytes"/> is the anonymous memory outside the GC, glibc and stacks: the
/// runtime's own mmaps (loader and code heaps, JIT, stubs); memory the runtime takes with malloc lands in
/// <see cref="OtherNativeBytes"/> with the application's, as the two cannot be told apart from outside.
/// </remarks>
public sealed record DotNetMemorySplit
{
    /// <summary>Bytes on the GC heap: live objects and garbage not yet collected.</summary>
    public required ulong ManagedHeapBytes { get; init; }

    /// <summary>Committed by the GC but holding no objects (GC committed minus heap); null without a committed figure.</summary>
    public ulong? GcCommittedFreeBytes { get; init; }

    /// <summary>Resident memory of the GC's reservation (region <c>gc-heap</c>); 0 when the reservation was not recognized.</summary>
    public required ulong GcResidentBytes { get; init; }

    /// <summary>Resident anonymous memory outside the GC, glibc, other allocators and stacks (region <c>anon</c>).</summary>
    public required ulong RuntimeNativeBytes { get; init; }

    /// <summary>Resident memory of the native allocator: glibc heap, arenas and mmapped chunks, or jemalloc/tcmalloc extents.</summary>
    public required ulong OtherNativeBytes { get; init; }

    public required ulong StackBytes { get; init; }

    /// <summary>File-backed resident memory (code and data files, including the runtime's own libraries).</summary>
    public required ulong FileBytes { get; init; }

    public required ulong ShmemBytes { get; init; }

    public required ulong RssBytes { get; init; }

    /// <summary>True when the GC reservation was recognized in the mappings; otherwise GC memory counts as runtime native.</summary>
    public required bool GcRegionRecognized { get; init; }

    public static DotNetMemorySplit From(ManagedHeapFigures figures, MemoryLayout layout)
    {
        ArgumentNullException.ThrowIfNull(figures);
        ArgumentNullException.ThrowIfNull(layout);
        RegionTotals gc = layout[RegionKind.GcHeap];
        return new DotNetMemorySplit
        {
            ManagedHeapBytes = figures.GcHeapBytes,
            GcCommittedFreeBytes = figures.GcCommittedBytes is { } committed
                ? committed > figures.GcHeapBytes ? committed - figures.GcHeapBytes : 0
                : null,
            GcResidentBytes = gc.RssBytes,
            RuntimeNativeBytes = layout[RegionKind.Anon].RssBytes,
            OtherNativeBytes = layout[RegionKind.Heap].RssBytes + layout[RegionKind.Arena].RssBytes
                + layout[RegionKind.MmapChunk].RssBytes + layout[RegionKind.AllocatorExtent].RssBytes,
            StackBytes = layout[RegionKind.Stack].RssBytes,
            FileBytes = layout[RegionKind.FileCode].RssBytes + layout[RegionKind.FileData].RssBytes,
            ShmemBytes = layout[RegionKind.Shmem].RssBytes,
            RssBytes = layout.RssBytes,
            GcRegionRecognized = gc.Count > 0,
        };
    }
}
