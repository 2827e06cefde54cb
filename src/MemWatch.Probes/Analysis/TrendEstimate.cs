namespace MemWatch.Probes.Analysis;

/// <summary>
/// A robust linear trend of one series (see <see cref="TheilSen"/>): the median pairwise slope, its 95% interval from
/// the ranked pairwise slopes (Sen 1968), and how many pairwise slopes agree in sign with the median.
/// </summary>
/// <param name="Points">Points fitted.</param>
/// <param name="Pairs">Pairwise slopes used (all pairs, or a deterministic subsample for long windows).</param>
/// <param name="SpanSeconds">Time between the first and the last point.</param>
/// <param name="SlopePerSecond">Median pairwise slope, in series units (bytes) per second; NaN when not estimable.</param>
/// <param name="SlopeLowPerSecond">Lower end of the 95% interval; negative infinity when too few points bound it.</param>
/// <param name="SlopeHighPerSecond">Upper end of the 95% interval; positive infinity when too few points bound it.</param>
/// <param name="SignAgreement">Fraction of pairwise slopes with the median's sign: about 0.5 for noise, 1 for a clean trend.</param>
/// <param name="OriginSeconds">The time the intercept refers to (the first point).</param>
/// <param name="ValueAtOrigin">The fitted value at <paramref name="OriginSeconds"/> (median of the residual intercepts).</param>
/// <param name="ResidualScale">Robust spread of the points around the line (1.4826 × median absolute deviation).</param>
public readonly record struct TrendEstimate(
    int Points,
    int Pairs,
    double SpanSeconds,
    double SlopePerSecond,
    double SlopeLowPerSecond,
    double SlopeHighPerSecond,
    double SignAgreement,
    double OriginSeconds,
    double ValueAtOrigin,
    double ResidualScale)
{
    /// <summary>True when a slope could be estimated (two or more points at distinct times).</summary>
    public bool IsValid => Pairs > 0 && !double.IsNaN(SlopePerSecond);

    /// <summary>The whole 95% interval is above zero.</summary>
    public bool IsSignificantlyRising => IsValid && SlopeLowPerSecond > 0;

    /// <summary>The whole 95% interval is below zero.</summary>
    public bool IsSignificantlyFalling => IsValid && SlopeHighPerSecond < 0;

    /// <summary>The fitted line's value at <paramref name="seconds"/> (same time base as the fitted points).</summary>
    public double ValueAt(double seconds) => ValueAtOrigin + SlopePerSecond * (seconds - OriginSeconds);

    /// <summary>An estimate with no slope, for series with fewer than two usable points.</summary>
    public static TrendEstimate None(int points) =>
        new(points, 0, 0, double.NaN, double.NegativeInfinity, double.PositiveInfinity, 0, 0, double.NaN, double.NaN);
}
