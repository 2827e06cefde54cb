using MemWatch.Probes.Analysis;

namespace MemWatch.Probes.Tests.Analysis;

/// <summary>Deterministic synthetic memory series for trend and forecast tests.</summary>
internal static class SyntheticSeries
{
    /// <summary>y = intercept + slope·t + gaussian noise (sd <paramref name="noise"/>) at t = 0, step, 2·step, ...</summary>
    public static (double[] Seconds, double[] Values) Line(int n, double step, double intercept, double slope, double noise, int seed)
    {
        var random = new Random(seed);
        var t = new double[n];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            t[i] = i * step;
            y[i] = intercept + slope * t[i] + noise * Gaussian(random);
        }

        return (t, y);
    }

    /// <summary>Adds <paramref name="height"/> to a deterministic <paramref name="fraction"/> of the points.</summary>
    public static int InjectSpikes(double[] values, double fraction, double height, int seed)
    {
        var random = new Random(seed);
        int spikes = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (random.NextDouble() < fraction)
            {
                values[i] += height;
                spikes++;
            }
        }

        return spikes;
    }

    public static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static MemorySample Sample(long ms, ulong rss, ulong minflt = 0, ulong majflt = 0, ulong start = 1000,
        double inUse = double.NaN, double free = double.NaN) =>
        new(ms, start, rss, rss * 3 / 4, rss / 4, 0, 0, minflt, majflt, inUse, free);
}
