namespace MemWatch.Daemon.Analysis;

/// <summary>A classifier's answer for one target: one of <see cref="VerdictKinds.All"/>, a confidence in 0..1 and why.</summary>
public sealed record VerdictAssessment(string Kind, double Confidence, string Reason)
{
    /// <summary>The classifier's full answer (mechanism, evidence, recommendations) when one is wired in.</summary>
    public MemWatch.Probes.Verdicts.Verdict? Detail { get; init; }
}
