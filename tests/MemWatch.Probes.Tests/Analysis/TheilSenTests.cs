using MemWatch.Probes.Analysis;

namespace MemWatch.Probes.Tests.Analysis;

public sealed class TheilSenTests
{
    private const double MiB = 1 << 20;

    [Fact]
    public void Fit_ExactLine_ReturnsSlopeAndValueAtOrigin()
    {
        double[] t = [0, 5, 10, 15, 20, 25];
        double[] y = [100, 150, 200, 250, 300, 350];

        TrendEstimate fit = new TheilSen().Fit(t, y);

        Assert.Equal(10, fit.SlopePerSecond, 9);
        Assert.Equal(100, fit.ValueAtOrigin, 9);
        Assert.Equal(15, fit.Pairs);
        Assert.Equal(1.0, fit.SignAgreement);
        Assert.Equal(25, fit.SpanSeconds);
        Assert.Equal(0, fit.ResidualScale, 9);
        Assert.Equal(350, fit.ValueAt(25), 9);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fit_SteadyLeakWithSpikes_StaysWithinToleranceWhereLeastSquaresDoesNot(int seed)
    {
        // 1 MiB/s leak sampled every 5 s for 10 min with 2 MiB noise; 8 of the 120 samples carry a 600 MiB transient
        // spike (a burst of requests), late in the window where they tilt a least-squares line the most.
        (double[] t, double[] y) = SyntheticSeries.Line(120, 5, 500 * MiB, MiB, 2 * MiB, seed);
        for (int i = 95 + seed; i < t.Length; i += 3)
        {
            y[i] += 600 * MiB;
        }

        TrendEstimate robust = new TheilSen().Fit(t, y);
        (double ols, _) = LeastSquares.Fit(t, y);

        Assert.InRange(robust.SlopePerSecond, 0.95 * MiB, 1.05 * MiB);
        Assert.True(Math.Abs(ols - MiB) > 0.2 * MiB, $"least squares {ols / MiB:0.###} MiB/s was expected to be tilted by the spikes");
        Assert.True(robust.IsSignificantlyRising);
    }

    [Fact]
    public void Fit_PureNoise_IntervalContainsZeroAndSignsDisagree()
    {
        (double[] t, double[] y) = SyntheticSeries.Line(60, 5, 800 * MiB, 0, 10 * MiB, seed: 7);

        TrendEstimate fit = new TheilSen().Fit(t, y);

        Assert.False(fit.IsSignificantlyRising);
        Assert.False(fit.IsSignificantlyFalling);
        Assert.InRange(fit.SignAgreement, 0.5, 0.65);
        Assert.InRange(fit.ResidualScale, 7 * MiB, 13 * MiB);
    }

    [Fact]
    public void Fit_ManySeededSeries_IntervalCoversTrueSlopeAboutNinetyFivePercent()
    {
        var theilSen = new TheilSen();
        int covered = 0;
        const int runs = 300;
        for (int seed = 0; seed < runs; seed++)
        {
            (double[] t, double[] y) = SyntheticSeries.Line(40, 1, 0, 3.0, 20.0, seed);
            TrendEstimate fit = theilSen.Fit(t, y);
            if (fit.SlopeLowPerSecond <= 3.0 && 3.0 <= fit.SlopeHighPerSecond)
            {
                covered++;
            }
        }

        // Sen's interval is nominal 95%; allow for the normal-approximation of Kendall's S at n = 40.
        Assert.InRange(covered / (double)runs, 0.90, 0.99);
    }

    [Fact]
    public void Fit_LargeWindow_SubsamplesDeterministicallyAndStaysAccurate()
    {
        (double[] t, double[] y) = SyntheticSeries.Line(3000, 1, 0, 250, 5000, seed: 11);
        SyntheticSeries.InjectSpikes(y, 0.1, 1e7, seed: 12);
        var theilSen = new TheilSen(maxPairs: 4096);

        TrendEstimate first = theilSen.Fit(t, y);
        TrendEstimate second = new TheilSen(maxPairs: 4096).Fit(t, y);

        Assert.Equal(4096, first.Pairs);
        Assert.Equal(first, second);
        Assert.InRange(first.SlopePerSecond, 240, 260);
        Assert.True(first.IsSignificantlyRising);
    }

    [Fact]
    public void Fit_FewerThanTwoPointsOrEqualTimes_ReturnsInvalid()
    {
        var theilSen = new TheilSen();

        Assert.False(theilSen.Fit([], []).IsValid);
        Assert.False(theilSen.Fit([1.0], [5.0]).IsValid);
        Assert.False(theilSen.Fit([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]).IsValid);
    }

    [Fact]
    public void Fit_ThreePoints_IntervalIsUnbounded()
    {
        TrendEstimate fit = new TheilSen().Fit([0.0, 1.0, 2.0], [0.0, 1.0, 2.0]);

        Assert.Equal(1, fit.SlopePerSecond, 9);
        Assert.True(double.IsNegativeInfinity(fit.SlopeLowPerSecond));
        Assert.False(fit.IsSignificantlyRising);
    }

    [Fact]
    public void Fit_RepeatedCalls_AllocateNothing()
    {
        (double[] t, double[] y) = SyntheticSeries.Line(300, 5, 0, 1000, 50, seed: 3);
        var theilSen = new TheilSen();
        theilSen.Fit(t, y);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            theilSen.Fit(t, y);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
    [Theory]
    [InlineData(3)]
    [InlineData(12)]
    [InlineData(64)]
    [InlineData(720)]
    public void Fit_ConstantSeries_FlatWithTheIntervalBoundsOfAnyFitOfThatSize(int n)
    {
        (double[] t, double[] noisy) = SyntheticSeries.Line(n, 5, 0, 0, 4096, seed: 21);
        double[] constant = Enumerable.Repeat(2_048_000.0, n).ToArray();

        TrendEstimate flat = new TheilSen().Fit(t, constant);
        TrendEstimate reference = new TheilSen().Fit(t, noisy);

        Assert.Equal(reference.Pairs, flat.Pairs);
        Assert.Equal(reference.SpanSeconds, flat.SpanSeconds);
        Assert.Equal(0, flat.SlopePerSecond);
        Assert.Equal(double.IsNegativeInfinity(reference.SlopeLowPerSecond), double.IsNegativeInfinity(flat.SlopeLowPerSecond));
        Assert.Equal(double.IsPositiveInfinity(reference.SlopeHighPerSecond), double.IsPositiveInfinity(flat.SlopeHighPerSecond));
        if (!double.IsInfinity(flat.SlopeLowPerSecond))
        {
            Assert.Equal(0, flat.SlopeLowPerSecond);
            Assert.Equal(0, flat.SlopeHighPerSecond);
        }

        Assert.Equal(1, flat.SignAgreement);
        Assert.Equal(2_048_000.0, flat.ValueAtOrigin);
        Assert.Equal(0, flat.ResidualScale);
        Assert.False(flat.IsSignificantlyRising);
    }

    [Fact]
    public void Fit_ConstantButForOnePoint_IsNotTakenForConstant()
    {
        double[] t = Enumerable.Range(0, 720).Select(i => i * 5.0).ToArray();
        double[] y = Enumerable.Repeat(1000.0, 720).ToArray();
        y[^1] = 1001;

        TrendEstimate fit = new TheilSen().Fit(t, y);

        Assert.Equal(1000, fit.ValueAtOrigin);
        Assert.True(fit.SignAgreement < 1, $"agreement {fit.SignAgreement}: the one rising pair's slope was never looked at");
    }

    /// <summary>The sampled pairs are kept per window size: switching sizes must not mix them up.</summary>
    [Fact]
    public void Fit_WindowSizesAlternating_SameAsAFreshInstanceEachTime()
    {
        var reused = new TheilSen();
        foreach (int n in new[] { 720, 360, 720, 500, 360, 720, 100, 720 })
        {
            (double[] t, double[] y) = SyntheticSeries.Line(n, 5, 0, 10, 4096, seed: n);
            SyntheticSeries.InjectSpikes(y, 0.05, 1e6, seed: n + 1);

            Assert.Equal(new TheilSen().Fit(t, y), reused.Fit(t, y));
        }
    }
}
