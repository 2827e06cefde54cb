namespace MemWatch.Probes.Analysis;

/// <summary>
/// Theil-Sen line fit: the slope is the median of the slopes between pairs of points, so up to about 29% of the
/// points can be arbitrary spikes without moving it, where one spike can tilt a least-squares line.
/// </summary>
/// <remarks>
/// A window of n points has n(n-1)/2 pairs. Up to <see cref="MaxPairs"/> all are used; beyond that a fixed-seed
/// pseudo-random subsample of <see cref="MaxPairs"/> pairs is, and medians and quantiles are selected rather than
/// sorted, so the cost stays O(m) and the same input always gives the same answer. Scratch arrays are kept between calls: fitting allocates nothing once they have grown to the
/// window size. The 95% slope interval uses Sen's rank method (Sen 1968, from Kendall's S with variance
/// n(n-1)(2n+5)/18), read off the sorted slopes. Not thread-safe: one instance per analysing thread.
/// </remarks>
public sealed class TheilSen
{
    /// <summary>
    /// All pairs of up to 64 points; beyond, 2048 sampled pairs. The daemon fits four trends per target at each rollup
    /// on windows of 720 samples: 8192 pairs cost 0.35 ms per analysis, 2048 pairs 0.13-0.18 ms (GrowthAnalyzerBenchmarks,
    /// 300 different windows in turn).
    /// </summary>
    public const int DefaultMaxPairs = 2048;

    private const double Z95 = 1.959963984540054;
    private const double MadToSigma = 1.4826;
    private const ulong Seed = 0x9E3779B97F4A7C15;

    private readonly double[] _slopes;
    private readonly SampledPairs[] _pairs = [new(), new()];
    private int _newerPairs;
    private double[] _residuals;

    public TheilSen(int maxPairs = DefaultMaxPairs, int initialPoints = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPairs, 16);
        _slopes = new double[maxPairs];
        _residuals = new double[Math.Max(2, initialPoints)];
    }

    public int MaxPairs => _slopes.Length;

    /// <summary>Fits a line to the points (<paramref name="seconds"/>[i], <paramref name="values"/>[i]).</summary>
    /// <remarks>Points need not be sorted; non-finite values are the caller's to leave out. Pairs at equal times are skipped.</remarks>
    public TrendEstimate Fit(ReadOnlySpan<double> seconds, ReadOnlySpan<double> values)
    {
        if (seconds.Length != values.Length)
        {
            throw new ArgumentException("seconds and values must have the same length", nameof(values));
        }

        int n = seconds.Length;
        if (n < 2)
        {
            return TrendEstimate.None(n);
        }

        long allPairs = (long)n * (n - 1) / 2;
        int k = allPairs <= _slopes.Length ? CollectAllPairs(seconds, values) : CollectSampledPairs(seconds, values);
        if (k == 0)
        {
            return TrendEstimate.None(n);
        }

        double first = double.PositiveInfinity, last = double.NegativeInfinity;
        foreach (double t in seconds)
        {
            first = Math.Min(first, t);
            last = Math.Max(last, t);
        }

        // A series that never moved (an idle process's RSS or file pages, often for hours): every slope is 0, so the
        // medians and quantiles are known without selecting them.
        if (IsConstant(values))
        {
            (int lowRank, int highRank) = SenRanks(k, n);
            return new TrendEstimate(n, k, last - first, 0, lowRank >= 0 ? 0 : double.NegativeInfinity,
                highRank < k ? 0 : double.PositiveInfinity, 1, first, values[0], 0);
        }

        Span<double> slopes = _slopes.AsSpan(0, k);
        double slope = OrderStatistics.Median(slopes);

        // Slopes of the median's sign, counted without a branch per slope (their signs are as good as random).
        int rising = 0, falling = 0;
        foreach (double s in slopes)
        {
            rising += s > 0 ? 1 : 0;
            falling += s < 0 ? 1 : 0;
        }

        int agreeing = slope > 0 ? rising : slope < 0 ? falling : k - rising - falling;

        (double low, double high) = SenInterval(slopes, n);

        if (_residuals.Length < n)
        {
            _residuals = new double[Math.Max(n, _residuals.Length * 2)];
        }

        Span<double> residuals = _residuals.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            residuals[i] = values[i] - slope * (seconds[i] - first);
        }

        double valueAtOrigin = OrderStatistics.Median(residuals);
        for (int i = 0; i < n; i++)
        {
            residuals[i] = Math.Abs(residuals[i] - valueAtOrigin);
        }

        double scale = MadToSigma * OrderStatistics.Median(residuals);

        return new TrendEstimate(n, k, last - first, slope, low, high, (double)agreeing / k, first, valueAtOrigin, scale);
    }

    private int CollectAllPairs(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int k = 0;
        for (int i = 0; i < x.Length - 1; i++)
        {
            for (int j = i + 1; j < x.Length; j++)
            {
                double dx = x[j] - x[i];
                if (dx != 0)
                {
                    _slopes[k++] = (y[j] - y[i]) / dx;
                }
            }
        }

        return k;
    }

    private int CollectSampledPairs(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        SampledPairs pairs = PairsFor(x.Length);
        int[] first = pairs.First;
        int[] second = pairs.Second;
        int k = 0;
        for (int attempt = 0; attempt < first.Length && k < _slopes.Length; attempt++)
        {
            int i = first[attempt];
            int j = second[attempt];
            double dx = x[j] - x[i];
            if (dx != 0)
            {
                _slopes[k++] = (y[j] - y[i]) / dx;
            }
        }

        return k;
    }

    // The sampled pairs depend on n alone (the seed is fixed), and a steady daemon's windows nearly all hold the same
    // number of samples: each n's pairs are drawn once and kept. Two are kept because an analysis alternates between
    // the whole window and its later half.
    private SampledPairs PairsFor(int n)
    {
        for (int s = 0; s < _pairs.Length; s++)
        {
            if (_pairs[s].N == n)
            {
                _newerPairs = s;
                return _pairs[s];
            }
        }

        _newerPairs ^= 1;
        SampledPairs pairs = _pairs[_newerPairs];
        pairs.Draw(n, 2 * _slopes.Length);
        return pairs;
    }

    private static bool IsConstant(ReadOnlySpan<double> values)
    {
        double v = values[0];
        foreach (double x in values)
        {
            if (x != v)
            {
                return false;
            }
        }

        return true;
    }

    // The slopes have been partitioned around their middle index by the median's selection.
    private static (double Low, double High) SenInterval(Span<double> slopes, int n)
    {
        int k = slopes.Length;
        int mid = k / 2;
        (int lowIndex, int highIndex) = SenRanks(k, n);
        double low = lowIndex >= 0 ? OrderStatistics.SelectBeside(slopes, mid, lowIndex) : double.NegativeInfinity;
        double high = highIndex < k ? OrderStatistics.SelectBeside(slopes, mid, highIndex) : double.PositiveInfinity;
        return (low, high);
    }

    // Ranks of Sen's interval for all N pairs, applied as fractions so a subsample of k uses the same quantiles; below
    // 0 or from k on, the interval is unbounded on that side (too few points for 95%).
    private static (int Low, int High) SenRanks(int k, int n)
    {
        double pairs = (double)n * (n - 1) / 2;
        double c = Z95 * Math.Sqrt(n * (n - 1.0) * (2.0 * n + 5) / 18.0);
        double lowerRank = (pairs - c) / 2;
        double upperRank = (pairs + c) / 2 + 1;
        return ((int)Math.Floor(lowerRank / pairs * k) - 1, (int)Math.Ceiling(upperRank / pairs * k) - 1);
    }

    /// <summary>The index pairs drawn for windows of <see cref="N"/> points, in the order they are tried.</summary>
    private sealed class SampledPairs
    {
        public int N { get; private set; } = -1;

        public int[] First { get; private set; } = [];

        public int[] Second { get; private set; } = [];

        public void Draw(int n, int attempts)
        {
            if (First.Length != attempts)
            {
                First = new int[attempts];
                Second = new int[attempts];
            }

            ulong state = Seed;
            for (int a = 0; a < attempts; a++)
            {
                int i = Below(NextRandom(ref state), n);
                int j = Below(NextRandom(ref state), n - 1);
                First[a] = i;
                Second[a] = j >= i ? j + 1 : j;
            }

            N = n;
        }
    }

    // A uniform 0..bound-1 from 64 random bits by a multiply (Lemire), not a 64-bit division per index.
    private static int Below(ulong random, int bound) => (int)Math.BigMul(random, (ulong)bound, out _);

    // SplitMix64: small, fast and fully determined by the seed.
    private static ulong NextRandom(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
