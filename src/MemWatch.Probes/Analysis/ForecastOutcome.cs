namespace MemWatch.Probes.Analysis;

/// <summary>Why a forecast was, or was not, given.</summary>
public enum ForecastOutcome
{
    /// <summary>Seconds to the limit were computed.</summary>
    Forecast,

    /// <summary>Usage has already reached the limit.</summary>
    AtLimit,

    /// <summary>There is no finite limit to reach.</summary>
    NoLimit,

    /// <summary>Too few samples or too short a window to extrapolate.</summary>
    WindowTooShort,

    /// <summary>Usage is flat or falling.</summary>
    NotGrowing,

    /// <summary>The median slope is positive, but its 95% interval includes zero or the pairwise slopes disagree.</summary>
    TrendUncertain,

    /// <summary>The window rose but its newest half is flat: a warm-up or a deploy that has settled.</summary>
    GrowthStopped,

    /// <summary>Usage is below the utilisation floor and memory pressure is low, so a linear extrapolation is not trusted.</summary>
    BelowUtilisationFloor,
}
