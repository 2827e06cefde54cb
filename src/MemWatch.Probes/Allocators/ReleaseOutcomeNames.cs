namespace MemWatch.Probes.Allocators;

/// <summary>Stable names of <see cref="ReleaseOutcome"/> values for JSON and metric labels.</summary>
public static class ReleaseOutcomeNames
{
    public static string ToName(this ReleaseOutcome outcome) => outcome switch
    {
        ReleaseOutcome.Released => "released",
        ReleaseOutcome.NothingReleased => "nothing-released",
        ReleaseOutcome.Requested => "requested",
        ReleaseOutcome.Failed => "failed",
        ReleaseOutcome.NotSupported => "not-supported",
        _ => "unknown",
    };
}
