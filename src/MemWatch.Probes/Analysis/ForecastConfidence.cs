namespace MemWatch.Probes.Analysis;

/// <summary>How far a forecast can be trusted.</summary>
public enum ForecastConfidence
{
    /// <summary>No forecast was made; see <see cref="ForecastResult.Outcome"/>.</summary>
    None,

    /// <summary>A direction more than a date: wide interval, or far beyond the observed window.</summary>
    Low,

    Medium,

    /// <summary>Consistent growth, narrow interval, horizon within reach of the observed window.</summary>
    High,
}
