using System.Globalization;

namespace MemWatch.Probes.Analysis;

/// <summary>
/// Seconds until a cgroup (or the host) reaches its memory limit, from a process's robust trend, with guards against
/// the misfires of a bare linear extrapolation: right after a deploy or during a warm-up usage rises steeply and then
/// levels off.
/// </summary>
/// <remarks>
/// Guards, in order: a finite limit; usage already at the limit; a long enough window; growth whose 95% interval is
/// above zero and whose pairwise slopes mostly agree (else no forecast: a figure from noise is worse than none);
/// growth still present in the newest part of the window; and a utilisation floor that only PSI pressure overrides.
/// The interval of the slope becomes an interval of times. Confidence drops when that interval is wide or when the
/// horizon is far beyond the observed window (extrapolating 10 minutes of data to a day is a guess).
/// </remarks>
public static class Forecast
{
    public static ForecastResult ToLimit(ForecastInput input, ForecastOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= ForecastOptions.Default;

        double limit = input.LimitBytes;
        double usage = Math.Max(0, input.UsageBytes - Math.Max(0, input.ReclaimableBytes));
        TrendEstimate trend = input.ProcessTrend;
        double others = double.IsFinite(input.OtherMembersBytesPerSecond) ? input.OtherMembersBytesPerSecond : 0;
        double growth = trend.IsValid ? trend.SlopePerSecond + others : others;
        bool pressure = IsUnderPressure(input.Pressure, options);
        string scope = input.Scope == LimitScope.Host ? "the host" : "the cgroup";

        if (!double.IsFinite(limit) || limit <= 0)
        {
            return NoForecast(ForecastOutcome.NoLimit, $"{scope} has no memory limit", 0, 0);
        }

        double headroom = limit - usage;
        double utilisation = usage / limit;
        if (headroom <= 0)
        {
            return new ForecastResult(ForecastOutcome.AtLimit, ForecastConfidence.High, 0, 0, 0, limit, headroom, utilisation,
                growth, pressure, input.Scope, $"{scope} is at its limit ({Percent(utilisation)} used, reclaimable excluded)");
        }

        if (!trend.IsValid || trend.Points < options.MinimumPoints || trend.SpanSeconds < options.MinimumWindowSeconds)
        {
            return NoForecast(ForecastOutcome.WindowTooShort, Invariant(
                $"{trend.Points} samples over {trend.SpanSeconds:0.#} s; need {options.MinimumPoints} over {options.MinimumWindowSeconds:0.#} s"),
                headroom, utilisation);
        }

        if (growth <= 0 || trend.SlopeHighPerSecond <= 0)
        {
            return NoForecast(ForecastOutcome.NotGrowing, Invariant($"usage is not growing ({Rate(growth)})"), headroom, utilisation);
        }

        if (!trend.IsSignificantlyRising || trend.SignAgreement < options.MinimumSignAgreement)
        {
            return NoForecast(ForecastOutcome.TrendUncertain, Invariant(
                $"growth of {Rate(trend.SlopePerSecond)} is not established: 95% interval {Rate(trend.SlopeLowPerSecond)} to {Rate(trend.SlopeHighPerSecond)}, {Percent(trend.SignAgreement)} of pairwise slopes agree"),
                headroom, utilisation);
        }

        if (input.RecentProcessTrend is { IsValid: true } recent
            && recent.Points >= 3
            && !recent.IsSignificantlyRising
            && recent.SlopePerSecond < options.RecentGrowthFraction * trend.SlopePerSecond)
        {
            return NoForecast(ForecastOutcome.GrowthStopped, Invariant(
                $"the window grew {Rate(trend.SlopePerSecond)} but its last {recent.SpanSeconds:0} s only {Rate(recent.SlopePerSecond)}: growth has levelled off (warm-up or deploy)"),
                headroom, utilisation);
        }

        if (utilisation < options.UtilisationFloor && !pressure)
        {
            return NoForecast(ForecastOutcome.BelowUtilisationFloor, Invariant(
                $"{Percent(utilisation)} of the limit is used, below the {Percent(options.UtilisationFloor)} floor, and memory pressure is low"),
                headroom, utilisation);
        }

        double seconds = headroom / growth;
        double earliest = headroom / (trend.SlopeHighPerSecond + others);
        double lowGrowth = trend.SlopeLowPerSecond + others;
        double? latest = lowGrowth > 0 ? headroom / lowGrowth : null;

        ForecastConfidence confidence = trend.SignAgreement >= options.HighSignAgreement ? ForecastConfidence.High : ForecastConfidence.Medium;
        if (latest is null || latest.Value > 4 * earliest)
        {
            confidence = ForecastConfidence.Low;
        }

        if (seconds > 100 * trend.SpanSeconds)
        {
            confidence = ForecastConfidence.Low;
        }
        else if (seconds > 10 * trend.SpanSeconds && confidence == ForecastConfidence.High)
        {
            confidence = ForecastConfidence.Medium;
        }

        string range = latest is { } l ? Invariant($"{Duration(earliest)} to {Duration(l)}") : Invariant($"at least {Duration(earliest)}");
        string why = Invariant(
            $"{scope} reaches its limit in about {Duration(seconds)} ({range}) at {Rate(growth)}, {Percent(utilisation)} used now over {trend.SpanSeconds:0} s of samples{(pressure ? ", under memory pressure" : "")}");
        return new ForecastResult(ForecastOutcome.Forecast, confidence, seconds, earliest, latest, limit, headroom, utilisation, growth,
            pressure, input.Scope, why);

        ForecastResult NoForecast(ForecastOutcome outcome, string reason, double headroomBytes, double used) =>
            new(outcome, ForecastConfidence.None, null, null, null, limit, headroomBytes, used, growth, pressure, input.Scope, reason);
    }

    /// <summary>True when any PSI average crosses its threshold in <paramref name="options"/>.</summary>
    public static bool IsUnderPressure(PressureAverages? pressure, ForecastOptions options) =>
        pressure is { } p
        && (p.SomeAvg10 >= options.PressureSomeAvg10Percent
            || p.SomeAvg60 >= options.PressureSomeAvg60Percent
            || p.FullAvg10 >= options.PressureFullAvg10Percent);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string Rate(double bytesPerSecond)
    {
        if (!double.IsFinite(bytesPerSecond))
        {
            return bytesPerSecond > 0 ? "+inf B/s" : "-inf B/s";
        }

        double abs = Math.Abs(bytesPerSecond);
        (double scale, string unit) = abs >= 1 << 30 ? (1 << 30, "GiB/s") : abs >= 1 << 20 ? (1 << 20, "MiB/s") : abs >= 1 << 10 ? (1 << 10, "KiB/s") : (1, "B/s");
        return (bytesPerSecond / scale).ToString("0.##", CultureInfo.InvariantCulture) + " " + unit;
    }

    private static string Duration(double seconds) => seconds switch
    {
        < 120 => seconds.ToString("0", CultureInfo.InvariantCulture) + " s",
        < 7200 => (seconds / 60).ToString("0.#", CultureInfo.InvariantCulture) + " min",
        < 172800 => (seconds / 3600).ToString("0.#", CultureInfo.InvariantCulture) + " h",
        _ => (seconds / 86400).ToString("0.#", CultureInfo.InvariantCulture) + " d",
    };
}
