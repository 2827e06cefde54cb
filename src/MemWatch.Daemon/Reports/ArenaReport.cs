namespace MemWatch.Daemon.Reports;

/// <summary>One glibc arena as its allocator describes it (inspect --introspect): allocator.arenaDetails[].</summary>
internal sealed record ArenaReport
{
    /// <summary>malloc_info's heap number; 0 is the main arena.</summary>
    public required int Number { get; init; }

    public required ulong SystemBytes { get; init; }

    public required ulong InUseBytes { get; init; }

    public required ulong FastbinFreeBytes { get; init; }

    /// <summary>Null: glibc counts tcache chunks as in use and malloc_info cannot see them.</summary>
    public ulong? TcacheFreeBytes { get; init; }

    public required ulong BinFreeBytes { get; init; }

    public required ulong TopBytes { get; init; }

    /// <summary>The trim model's prediction for this arena.</summary>
    public required ulong ReleasableBytes { get; init; }
}
