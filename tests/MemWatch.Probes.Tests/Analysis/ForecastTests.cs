using MemWatch.Probes.Analysis;

namespace MemWatch.Probes.Tests.Analysis;

public sealed class ForecastTests
{
    private const double MiB = 1 << 20;
    private const double GiB = 1 << 30;

    private static TrendEstimate Fit(double[] t, double[] y) => new TheilSen().Fit(t, y);

    private static TrendEstimate SteadyLeak(double bytesPerSecond, int points = 60, double step = 5, double noise = 0.5 * MiB, int seed = 1)
    {
        (double[] t, double[] y) = SyntheticSeries.Line(points, step, 400 * MiB, bytesPerSecond, noise, seed);
        return Fit(t, y);
    }

    [Fact]
    public void ToLimit_SteadyLeakToLimit_SecondsMatchArithmetic()
    {
        TrendEstimate trend = SteadyLeak(MiB);
        var input = new ForecastInput { LimitBytes = GiB, UsageBytes = 700 * MiB, ProcessTrend = trend };

        ForecastResult result = Forecast.ToLimit(input);

        // 324 MiB of headroom at 1 MiB/s.
        Assert.Equal(ForecastOutcome.Forecast, result.Outcome);
        Assert.InRange(result.SecondsToLimit!.Value, 324 * 0.98, 324 * 1.02);
        Assert.Equal(324 * MiB / trend.SlopePerSecond, result.SecondsToLimit.Value, 6);
        Assert.InRange(324.0, result.EarliestSeconds!.Value, result.LatestSeconds!.Value);
        Assert.Equal(ForecastConfidence.High, result.Confidence);
        Assert.Equal(324 * MiB, result.HeadroomBytes);
    }

    [Fact]
    public void ToLimit_OtherMembersGrowing_CountsTheirGrowth()
    {
        TrendEstimate trend = SteadyLeak(MiB);
        var input = new ForecastInput
        {
            LimitBytes = GiB, UsageBytes = 700 * MiB, ProcessTrend = trend, OtherMembersBytesPerSecond = MiB,
        };

        ForecastResult result = Forecast.ToLimit(input);

        Assert.Equal(324 * MiB / (trend.SlopePerSecond + MiB), result.SecondsToLimit!.Value, 6);
        Assert.InRange(result.SecondsToLimit.Value, 160, 164);
    }

    [Fact]
    public void ToLimit_ReclaimablePageCache_IsNotCountedAsUsage()
    {
        TrendEstimate trend = SteadyLeak(MiB);
        var input = new ForecastInput { LimitBytes = GiB, UsageBytes = 900 * MiB, ReclaimableBytes = 200 * MiB, ProcessTrend = trend };

        ForecastResult result = Forecast.ToLimit(input);

        Assert.Equal(324 * MiB, result.HeadroomBytes);
        Assert.Equal(700.0 / 1024, result.Utilisation, 9);
    }

    [Fact]
    public void ToLimit_WarmUpRampThenFlatBelowFloor_GivesNoAlarm()
    {
        // 3 min ramp of 2 MiB/s, then 7 min flat: the whole-window Theil-Sen slope is still positive.
        var t = new double[120];
        var y = new double[120];
        for (int i = 0; i < 120; i++)
        {
            t[i] = i * 5;
            y[i] = 100 * MiB + Math.Min(t[i], 180) * 2 * MiB + (i % 4) * 64 * 1024;
        }

        TrendEstimate whole = Fit(t, y);
        Assert.True(whole.IsSignificantlyRising);
        var input = new ForecastInput { LimitBytes = 2 * GiB, UsageBytes = 470 * MiB, ProcessTrend = whole };

        ForecastResult result = Forecast.ToLimit(input);

        Assert.Equal(ForecastOutcome.BelowUtilisationFloor, result.Outcome);
        Assert.Null(result.SecondsToLimit);
        Assert.Equal(ForecastConfidence.None, result.Confidence);
    }

    [Fact]
    public void ToLimit_WarmUpRampThenFlatAboveFloor_RecentTrendStopsForecast()
    {
        var t = new double[120];
        var y = new double[120];
        for (int i = 0; i < 120; i++)
        {
            t[i] = i * 5;
            y[i] = 1000 * MiB + Math.Min(t[i], 180) * 2 * MiB + (i % 4) * 64 * 1024;
        }

        TrendEstimate whole = Fit(t, y);
        TrendEstimate recent = Fit(t[60..], y[60..]);
        var input = new ForecastInput { LimitBytes = 2 * GiB, UsageBytes = 1400 * MiB, ProcessTrend = whole, RecentProcessTrend = recent };

        ForecastResult withRecent = Forecast.ToLimit(input);
        ForecastResult withoutRecent = Forecast.ToLimit(input with { RecentProcessTrend = null });

        Assert.Equal(ForecastOutcome.GrowthStopped, withRecent.Outcome);
        Assert.Null(withRecent.SecondsToLimit);
        Assert.Equal(ForecastOutcome.Forecast, withoutRecent.Outcome);
    }

    [Fact]
    public void ToLimit_PressureHighBelowFloor_StillForecasts()
    {
        TrendEstimate trend = SteadyLeak(MiB);
        var input = new ForecastInput
        {
            LimitBytes = 4 * GiB,
            UsageBytes = GiB,
            ProcessTrend = trend,
            Pressure = new PressureAverages(SomeAvg10: 25, SomeAvg60: 12, FullAvg10: 3, FullAvg60: 1),
        };

        ForecastResult pressured = Forecast.ToLimit(input);
        ForecastResult calm = Forecast.ToLimit(input with { Pressure = new PressureAverages(0.5, 0.2, 0, 0) });

        Assert.Equal(ForecastOutcome.Forecast, pressured.Outcome);
        Assert.True(pressured.UnderPressure);
        Assert.Equal(3 * GiB / trend.SlopePerSecond, pressured.SecondsToLimit!.Value, 6);
        Assert.Equal(ForecastOutcome.BelowUtilisationFloor, calm.Outcome);
    }

    [Fact]
    public void ToLimit_NoisyFlatUsage_GivesNoForecast()
    {
        (double[] t, double[] y) = SyntheticSeries.Line(60, 5, 900 * MiB, 0, 20 * MiB, seed: 5);
        var input = new ForecastInput { LimitBytes = GiB, UsageBytes = 950 * MiB, ProcessTrend = Fit(t, y) };

        ForecastResult result = Forecast.ToLimit(input);

        Assert.Contains(result.Outcome, new[] { ForecastOutcome.NotGrowing, ForecastOutcome.TrendUncertain });
        Assert.Null(result.SecondsToLimit);
    }

    [Fact]
    public void ToLimit_WeakTrendUnderNoise_IsDroppedAsUncertain()
    {
        // 20 KiB/s under 20 MiB of noise over 5 min: the median slope is positive but not established.
        (double[] t, double[] y) = SyntheticSeries.Line(60, 5, 900 * MiB, 20 * 1024, 20 * MiB, seed: 2);
        TrendEstimate trend = Fit(t, y);
        Assert.True(trend.SlopePerSecond > 0);
        var input = new ForecastInput { LimitBytes = GiB, UsageBytes = 950 * MiB, ProcessTrend = trend };

        Assert.Equal(ForecastOutcome.TrendUncertain, Forecast.ToLimit(input).Outcome);
    }

    [Fact]
    public void ToLimit_ShortWindowFarHorizon_HasLowConfidence()
    {
        TrendEstimate trend = SteadyLeak(10 * 1024, points: 12, step: 5, noise: 1024);
        var input = new ForecastInput { LimitBytes = 8 * GiB, UsageBytes = 6 * GiB, ProcessTrend = trend };

        ForecastResult result = Forecast.ToLimit(input);

        Assert.Equal(ForecastOutcome.Forecast, result.Outcome);
        Assert.True(result.SecondsToLimit > 100 * trend.SpanSeconds);
        Assert.Equal(ForecastConfidence.Low, result.Confidence);
    }

    [Fact]
    public void ToLimit_TooFewSamples_ReportsWindowTooShort()
    {
        TrendEstimate trend = SteadyLeak(MiB, points: 3, step: 1);
        var input = new ForecastInput { LimitBytes = GiB, UsageBytes = 900 * MiB, ProcessTrend = trend };

        ForecastResult result = Forecast.ToLimit(input);

        Assert.Equal(ForecastOutcome.WindowTooShort, result.Outcome);
        Assert.Contains("3 samples", result.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void ToLimit_NoFiniteLimit_ReportsNoLimit(double limit)
    {
        var input = new ForecastInput { LimitBytes = limit, UsageBytes = GiB, ProcessTrend = SteadyLeak(MiB), Scope = LimitScope.Host };

        ForecastResult result = Forecast.ToLimit(input);

        Assert.Equal(ForecastOutcome.NoLimit, result.Outcome);
        Assert.Contains("the host", result.Reason);
    }

    [Fact]
    public void ToLimit_UsageAtLimit_ReturnsZeroSeconds()
    {
        var input = new ForecastInput { LimitBytes = GiB, UsageBytes = GiB + 1, ProcessTrend = TrendEstimate.None(0) };

        ForecastResult result = Forecast.ToLimit(input);

        Assert.Equal(ForecastOutcome.AtLimit, result.Outcome);
        Assert.Equal(0, result.SecondsToLimit);
    }
}
