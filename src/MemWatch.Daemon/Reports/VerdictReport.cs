namespace MemWatch.Daemon.Reports;

/// <summary>The classifier's verdict in a report (docs/verdicts.md): what the memory does, why, and what to do.</summary>
internal sealed record VerdictReport
{
    /// <summary><c>leak</c>, <c>allocator-retention</c>, <c>file-backed-growth</c>, <c>managed-heap-growth</c>, <c>unexplained-growth</c> or <c>stable</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The retention mechanism (<c>fastbin-tcache-hoard</c>, <c>top-chunk-pinned</c>, ...) or null.</summary>
    public string? Mechanism { get; init; }

    /// <summary>0..1.</summary>
    public required double Confidence { get; init; }

    public required string Summary { get; init; }

    /// <summary>Quantified observations, one line each.</summary>
    public required IReadOnlyList<string> Evidence { get; init; }

    /// <summary>What to do, most direct first.</summary>
    public required IReadOnlyList<RecommendationReport> Recommendations { get; init; }

    /// <summary>What would confirm or overturn the verdict, or null.</summary>
    public string? WhatWouldSettleIt { get; init; }

    /// <summary>True when the allocator's own figures were used (--introspect).</summary>
    public required bool Introspected { get; init; }
}
