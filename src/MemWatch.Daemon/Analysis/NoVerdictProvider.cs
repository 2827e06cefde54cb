namespace MemWatch.Daemon.Analysis;

/// <summary>No classifier wired in: never a verdict.</summary>
public sealed class NoVerdictProvider : IVerdictProvider
{
    public VerdictAssessment? Assess(VerdictInput input) => null;
}
