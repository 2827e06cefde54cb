namespace MemWatch.Probes.Analysis;

/// <summary>
/// The k-th smallest value of a span in expected linear time (Hoare's selection), for medians and quantiles that
/// would otherwise sort: the daemon fits trends to thousands of pairwise slopes at every rollup of every target.
/// </summary>
/// <remarks>
/// Selection reorders the span: afterwards everything before index k is at most the k-th value and everything after
/// it at least, so further order statistics can be selected in one side only. Values must not be NaN. A selection that
/// partitions badly too often falls back to sorting its range, which bounds the worst case at O(n log n).
/// </remarks>
internal static class OrderStatistics
{
    /// <summary>Puts the k-th smallest value (0-based) at index k and returns it.</summary>
    public static double Select(Span<double> values, int k)
    {
        if ((uint)k >= (uint)values.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"the span holds {values.Length} values");
        }

        int lo = 0, hi = values.Length - 1;
        int budget = 2 * (System.Numerics.BitOperations.Log2((uint)values.Length) + 1);
        while (hi > lo)
        {
            if (budget-- == 0)
            {
                values[lo..(hi + 1)].Sort();
                return values[k];
            }

            // Median of three as the pivot; it also leaves sentinels at both ends for the scans below.
            int mid = lo + ((hi - lo) >> 1);
            if (values[mid] < values[lo]) (values[mid], values[lo]) = (values[lo], values[mid]);
            if (values[hi] < values[lo]) (values[hi], values[lo]) = (values[lo], values[hi]);
            if (values[hi] < values[mid]) (values[hi], values[mid]) = (values[mid], values[hi]);
            double pivot = values[mid];

            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            // Now values[lo..j] <= pivot <= values[i..hi], and everything strictly between j and i equals the pivot.
            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return values[k];
            }
        }

        return values[k];
    }

    /// <summary>The median (mean of the two middle values for an even count); reorders the span.</summary>
    public static double Median(Span<double> values)
    {
        int mid = values.Length / 2;
        double upper = Select(values, mid);
        if (values.Length % 2 == 1)
        {
            return upper;
        }

        // The lower middle value is the largest of the half that selection left below index mid.
        double lower = double.NegativeInfinity;
        foreach (double v in values[..mid])
        {
            lower = Math.Max(lower, v);
        }

        return (lower + upper) / 2;
    }

    /// <summary>
    /// The k-th smallest value of a span already partitioned around index <paramref name="partitioned"/> (by
    /// <see cref="Select"/> or <see cref="Median"/>): selects within the side k falls in only.
    /// </summary>
    public static double SelectBeside(Span<double> values, int partitioned, int k)
    {
        if (k == partitioned)
        {
            return values[k];
        }

        return k < partitioned
            ? Select(values[..partitioned], k)
            : Select(values[(partitioned + 1)..], k - partitioned - 1);
    }
}
