namespace MemWatch.Probes.Analysis;

/// <summary>Ordinary least-squares line, kept as the baseline Theil-Sen is compared with (it is not robust to spikes).</summary>
internal static class LeastSquares
{
    /// <returns>Slope per second and the value at time 0; NaN slope with fewer than two distinct times.</returns>
    public static (double SlopePerSecond, double Intercept) Fit(ReadOnlySpan<double> seconds, ReadOnlySpan<double> values)
    {
        int n = Math.Min(seconds.Length, values.Length);
        if (n < 2)
        {
            return (double.NaN, double.NaN);
        }

        double meanX = 0, meanY = 0;
        for (int i = 0; i < n; i++)
        {
            meanX += seconds[i];
            meanY += values[i];
        }

        meanX /= n;
        meanY /= n;
        double sxy = 0, sxx = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = seconds[i] - meanX;
            sxy += dx * (values[i] - meanY);
            sxx += dx * dx;
        }

        if (sxx == 0)
        {
            return (double.NaN, double.NaN);
        }

        double slope = sxy / sxx;
        return (slope, meanY - slope * meanX);
    }
}
