namespace MemWatch.Probes.Runtimes;

/// <summary>
/// A runtime's own account of its heap at one moment: read without running code in the process (a file the runtime
/// publishes, or its statistics read through <c>/proc/PID/mem</c> at a symbol's address), or for V8 asked through
/// remote calls with <c>--introspect</c>.
/// </summary>
public sealed record RuntimeHeapFigures
{
    public required RuntimeKind Runtime { get; init; }

    /// <summary>Where the figures come from, e.g. <c>hsperfdata</c>, <c>runtime.memstats</c>, <c>obmalloc arenas</c>.</summary>
    public required string Source { get; init; }

    /// <summary>The runtime's version when read (e.g. <c>go1.19.8</c>, <c>3.11</c>).</summary>
    public string? Version { get; init; }

    /// <summary>Bytes of objects: live, or allocated and not yet collected (GC heaps), or blocks in use (pymalloc).</summary>
    public ulong? UsedBytes { get; init; }

    /// <summary>Bytes the runtime holds for its heap: committed (GC heaps), arenas (pymalloc), spans in use + idle (Go).</summary>
    public ulong? CommittedBytes { get; init; }

    /// <summary>The heap's maximum as the runtime knows it (e.g. the generations' max capacity); null when unbounded.</summary>
    public ulong? MaxBytes { get; init; }

    /// <summary>Committed bytes not holding objects: free space the runtime keeps (and that stays resident once touched).</summary>
    public ulong? FreeBytes => CommittedBytes is { } c && UsedBytes is { } u ? (c > u ? c - u : 0) : null;

    /// <summary>V8: bytes of the committed heap that are resident (total_physical_size).</summary>
    public ulong? PhysicalBytes { get; init; }

    /// <summary>Go: bytes returned to the kernel with madvise (idle and released).</summary>
    public ulong? ReleasedBytes { get; init; }

    /// <summary>Go: idle spans not yet released (HeapIdle − HeapReleased).</summary>
    public ulong? IdleBytes { get; init; }

    /// <summary>CPython: pymalloc arenas allocated, pools holding blocks, and empty pools inside those arenas.</summary>
    public long? Arenas { get; init; }

    public long? PoolsInUse { get; init; }

    public long? PoolsFree { get; init; }

    /// <summary>CPython: bytes of the pools that hold at least one block (pinned by their survivors).</summary>
    public ulong? PoolsInUseBytes { get; init; }

    /// <summary>Generations and spaces (JVM, V8).</summary>
    public IReadOnlyList<RuntimeSpace> Spaces { get; init; } = [];
}
