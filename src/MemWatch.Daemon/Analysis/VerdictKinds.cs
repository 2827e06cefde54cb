namespace MemWatch.Daemon.Analysis;

/// <summary>The states of memwatch_verdict (the metrics contract).</summary>
public static class VerdictKinds
{
    public static readonly string[] All =
        ["leak", "allocator-retention", "file-backed-growth", "managed-heap-growth", "unexplained-growth", "stable"];
}
