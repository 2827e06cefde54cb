namespace MemWatch.Probes.Analysis;

/// <summary>Seconds until a limit is reached, how sure that is, and why no figure is given when there is none.</summary>
/// <param name="Outcome">Whether a forecast was made, or the guard that stopped it.</param>
/// <param name="Confidence"><see cref="ForecastConfidence.None"/> unless <paramref name="SecondsToLimit"/> is set.</param>
/// <param name="SecondsToLimit">Seconds until the limit at the median growth; null when no forecast is given.</param>
/// <param name="EarliestSeconds">At the upper end of the growth interval.</param>
/// <param name="LatestSeconds">At the lower end of the growth interval; null when that end is not above zero (unbounded).</param>
/// <param name="LimitBytes">The limit forecast against.</param>
/// <param name="HeadroomBytes">Limit minus non-reclaimable usage.</param>
/// <param name="Utilisation">Non-reclaimable usage as a fraction of the limit.</param>
/// <param name="GrowthBytesPerSecond">The process's median growth plus the other members' growth.</param>
/// <param name="UnderPressure">PSI crossed one of the thresholds of <see cref="ForecastOptions"/>.</param>
/// <param name="Scope">Whose limit it is.</param>
/// <param name="Reason">One sentence for people: the figure and what it rests on, or why there is none.</param>
public sealed record ForecastResult(
    ForecastOutcome Outcome,
    ForecastConfidence Confidence,
    double? SecondsToLimit,
    double? EarliestSeconds,
    double? LatestSeconds,
    double LimitBytes,
    double HeadroomBytes,
    double Utilisation,
    double GrowthBytesPerSecond,
    bool UnderPressure,
    LimitScope Scope,
    string Reason);
