namespace MemWatch.Daemon.Analysis;

/// <summary>
/// The seam where the verdict classifier (Probes/Verdicts) plugs into the daemon. Until one is registered the daemon
/// uses <see cref="NoVerdictProvider"/> and exports no memwatch_verdict series: no verdict is better than a made-up one.
/// </summary>
/// <remarks>Called on the sampler thread, at the rollup cadence, with the target's lock held: keep it quick and allocation-light.</remarks>
public interface IVerdictProvider
{
    /// <summary>The verdict for one target, or null when there is none yet.</summary>
    VerdictAssessment? Assess(VerdictInput input);
}
