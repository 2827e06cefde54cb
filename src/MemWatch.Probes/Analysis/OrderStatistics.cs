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

            // Median of three as the pivot: values[lo] <= pivot afterwards.
            int mid = lo + ((hi - lo) >> 1);
            if (values[mid] < values[lo])
            {
                (values[mid], values[lo]) = (values[lo], values[mid]);
            }

            if (values[hi] < values[lo])
            {
                (values[hi], values[lo]) = (values[lo], values[hi]);
            }

            if (values[hi] < values[mid])
            {
                (values[hi], values[mid]) = (values[mid], values[hi]);
            }

            double pivot = values[mid];

            int less = lo + PartitionBelow(values[lo..(hi + 1)], pivot, orEqual: false);
            if (k < less)
            {
                hi = less - 1;
            }
            else if (less > lo)
            {
                lo = less;
            }
            else
            {
                // The pivot is the smallest value left (duplicates): split off the values equal to it.
                int equal = lo + PartitionBelow(values[lo..(hi + 1)], pivot, orEqual: true);
                if (k < equal)
                {
                    return pivot;
                }

                lo = equal;
            }
        }

        return values[k];
    }

    /// <summary>
    /// Moves the values below <paramref name="pivot"/> (or equal to it, with <paramref name="orEqual"/>) to the front and
    /// returns how many there are. Branch-free (Lomuto's scheme, the comparison added to the index): around a median
    /// the comparison goes either way at random, and a mispredicted branch per value was most of the selection's cost.
    /// </summary>
    private static int PartitionBelow(Span<double> values, double pivot, bool orEqual)
    {
        int store = 0;
        if (orEqual)
        {
            for (int i = 0; i < values.Length; i++)
            {
                double v = values[i];
                values[i] = values[store];
                values[store] = v;
                store += v <= pivot ? 1 : 0;
            }
        }
        else
        {
            for (int i = 0; i < values.Length; i++)
            {
                double v = values[i];
                values[i] = values[store];
                values[store] = v;
                store += v < pivot ? 1 : 0;
            }
        }

        return store;
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
