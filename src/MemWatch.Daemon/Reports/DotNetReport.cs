namespace MemWatch.Daemon.Reports;

/// <summary>
/// A .NET target's managed figures (JSON <c>dotnet</c> in the inspect report): the runtime's GC counters and the split
/// of resident memory into managed heap, GC committed but free, runtime native and other native (docs/dotnet.md).
/// </summary>
internal sealed record DotNetReport
{
    /// <summary>The diagnostic socket the figures were read through.</summary>
    public required string SocketPath { get; init; }

    public required ulong GcHeapBytes { get; init; }

    public ulong? GcCommittedBytes { get; init; }

    public ulong? Gen0Bytes { get; init; }

    public ulong? Gen1Bytes { get; init; }

    public ulong? Gen2Bytes { get; init; }

    public ulong? LohBytes { get; init; }

    public ulong? PohBytes { get; init; }

    public ulong? FragmentationBytes { get; init; }

    /// <summary>Heap bytes allocated since the last GC: about what a full GC could free now (an estimate).</summary>
    public ulong? AllocatedSinceLastGcBytes { get; init; }

    public double? AllocationRateBytesPerSecond { get; init; }

    /// <summary>Collections during the counter interval (half a second).</summary>
    public ulong? GcCount { get; init; }

    public ulong? WorkingSetBytes { get; init; }

    public required DotNetSplitReport Split { get; init; }
}
