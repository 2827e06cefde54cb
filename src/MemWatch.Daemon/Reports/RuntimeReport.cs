namespace MemWatch.Daemon.Reports;

/// <summary>
/// The language runtime of the process and its own heap figures (docs/runtimes.md): what the runtime says it uses,
/// holds and may grow to. A figure the runtime does not publish is null; <see cref="Problem"/> says why.
/// </summary>
internal sealed record RuntimeReport
{
    /// <summary><c>cpython</c>, <c>node</c>, <c>jvm</c> or <c>go</c>.</summary>
    public required string Name { get; init; }

    public string? Version { get; init; }

    /// <summary>Where the figures come from (hsperfdata, runtime.memstats, pymalloc arenas); null when none were read.</summary>
    public string? Source { get; init; }

    /// <summary>Bytes of objects (GC heaps: live or not yet collected; pymalloc: blocks in use).</summary>
    public ulong? UsedBytes { get; init; }

    /// <summary>Bytes the runtime holds for its heap (committed; pymalloc arenas; Go in-use + idle spans).</summary>
    public ulong? CommittedBytes { get; init; }

    /// <summary>Committed minus used: free space the runtime keeps.</summary>
    public ulong? FreeBytes { get; init; }

    /// <summary>The heap's maximum as the runtime reports it.</summary>
    public ulong? MaxBytes { get; init; }

    /// <summary>V8: bytes of the committed heap that are resident (total_physical_size).</summary>
    public ulong? PhysicalBytes { get; init; }

    /// <summary>Go: idle spans not returned to the kernel.</summary>
    public ulong? IdleBytes { get; init; }

    /// <summary>Go: spans returned to the kernel (madvise).</summary>
    public ulong? ReleasedBytes { get; init; }

    /// <summary>CPython: pymalloc arenas (1 MiB each), pools holding blocks, empty pools in those arenas.</summary>
    public long? Arenas { get; init; }

    public long? PoolsInUse { get; init; }

    public long? PoolsFree { get; init; }

    public ulong? PoolsInUseBytes { get; init; }

    /// <summary>JVM generations and spaces; V8's spaces.</summary>
    public IReadOnlyList<RuntimeSpaceReport> Spaces { get; init; } = [];

    /// <summary>The limit the process declares (-Xmx, --max-old-space-size, GOMEMLIMIT, memcached -m, maxmemory).</summary>
    public DeclaredLimitReport? DeclaredLimit { get; init; }

    /// <summary>Why figures are missing (no hsperfdata, no debug symbols, an unsupported version); null when read.</summary>
    public string? Problem { get; init; }
}
