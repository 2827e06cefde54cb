using MemWatch.Probes.Allocators;

namespace MemWatch.Daemon.Reports;

/// <summary>What an allocator said about itself at one moment (asked through remote calls): the trim report's before and after.</summary>
internal sealed record AllocatorFigures
{
    public ulong? InUseBytes { get; init; }

    public ulong? FreeBytes { get; init; }

    /// <summary>The allocator's own figure (jemalloc, tcmalloc) or the glibc trim model's prediction.</summary>
    public ulong? ReleasableBytes { get; init; }

    public ulong? SystemBytes { get; init; }

    public int? Arenas { get; init; }

    public static AllocatorFigures From(AllocatorStatistics s) => new()
    {
        InUseBytes = s.InUseBytes,
        FreeBytes = s.FreeBytes,
        ReleasableBytes = s.ReleasableBytes,
        SystemBytes = s.SystemBytes,
        Arenas = s.Arenas,
    };
}
