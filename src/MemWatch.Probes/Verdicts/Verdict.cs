using MemWatch.Probes.Allocators.Models;

namespace MemWatch.Probes.Verdicts;

/// <summary>The classifier's answer for one process: what its memory does, why it thinks so, and what to do.</summary>
/// <param name="Kind">What the memory does.</param>
/// <param name="Mechanism">The allocator mechanism that keeps memory, when one was identified (retention verdicts only).</param>
/// <param name="Confidence">0..1: how strongly the observations single out this verdict (see docs/verdicts.md).</param>
/// <param name="Summary">One sentence for people.</param>
/// <param name="Evidence">Quantified observations the verdict rests on, one line each.</param>
/// <param name="Recommendations">What to do, most direct first, with the expected effect.</param>
/// <param name="WhatWouldSettleIt">The observation that would confirm or overturn the verdict; null when nothing more would help.</param>
/// <param name="Introspected">True when the allocator's own figures were used.</param>
public sealed record Verdict(
    VerdictKind Kind,
    RetentionMechanismKind? Mechanism,
    double Confidence,
    string Summary,
    IReadOnlyList<string> Evidence,
    IReadOnlyList<RetentionRemedy> Recommendations,
    string? WhatWouldSettleIt,
    bool Introspected)
{
    /// <summary>The report name of <see cref="Kind"/>.</summary>
    public string KindName => Kind.ToName();

    /// <summary>The report name of <see cref="Mechanism"/>, or null.</summary>
    public string? MechanismName => Mechanism is { } m ? RetentionMechanism.NameOf(m) : null;
}
