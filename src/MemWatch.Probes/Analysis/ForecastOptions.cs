namespace MemWatch.Probes.Analysis;

/// <summary>The guards of <see cref="Forecast"/>. Defaults suit a 5 s sampling interval.</summary>
public sealed record ForecastOptions
{
    public static ForecastOptions Default { get; } = new();

    /// <summary>Shortest trend window to extrapolate from. <value>The default is 10 seconds.</value></summary>
    public double MinimumWindowSeconds { get; init; } = 10;

    /// <summary>Fewest trend points. <value>The default is 5.</value></summary>
    public int MinimumPoints { get; init; } = 5;

    /// <summary>Below this fraction of the limit no forecast is made unless pressure is high. <value>The default is 0.5.</value></summary>
    public double UtilisationFloor { get; init; } = 0.5;

    /// <summary>PSI "some" avg10 (percent) at or above which memory counts as under pressure. <value>The default is 10.</value></summary>
    public double PressureSomeAvg10Percent { get; init; } = 10;

    /// <summary>PSI "some" avg60 (percent) at or above which memory counts as under pressure. <value>The default is 5.</value></summary>
    public double PressureSomeAvg60Percent { get; init; } = 5;

    /// <summary>PSI "full" avg10 (percent) at or above which memory counts as under pressure. <value>The default is 1.</value></summary>
    public double PressureFullAvg10Percent { get; init; } = 1;

    /// <summary>Fewer pairwise slopes agreeing with the median than this drops the forecast. <value>The default is 0.65.</value></summary>
    public double MinimumSignAgreement { get; init; } = 0.65;

    /// <summary>Sign agreement needed for <see cref="ForecastConfidence.High"/>. <value>The default is 0.9.</value></summary>
    public double HighSignAgreement { get; init; } = 0.9;

    /// <summary>
    /// The newest half of the window must grow at least this fraction of the whole window's slope, or the growth counts
    /// as stopped. <value>The default is 0.25.</value>
    /// </summary>
    public double RecentGrowthFraction { get; init; } = 0.25;
}
