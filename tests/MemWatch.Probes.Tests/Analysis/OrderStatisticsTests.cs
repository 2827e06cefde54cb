using MemWatch.Probes.Analysis;

namespace MemWatch.Probes.Tests.Analysis;

/// <summary>Selection against sorting, over the inputs that break naive quickselects: duplicates, runs, sorted input.</summary>
public sealed class OrderStatisticsTests
{
    public static TheoryData<string> Shapes => new(["random", "sorted", "reversed", "all-equal", "few-distinct", "organ-pipe"]);

    private static double[] Make(string shape, int n, int seed)
    {
        var random = new Random(seed);
        return shape switch
        {
            "random" => Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray(),
            "sorted" => Enumerable.Range(0, n).Select(i => (double)i).ToArray(),
            "reversed" => Enumerable.Range(0, n).Select(i => (double)(n - i)).ToArray(),
            "all-equal" => Enumerable.Repeat(3.5, n).ToArray(),
            "few-distinct" => Enumerable.Range(0, n).Select(_ => (double)random.Next(0, 3)).ToArray(),
            "organ-pipe" => Enumerable.Range(0, n).Select(i => (double)Math.Min(i, n - i)).ToArray(),
            _ => throw new ArgumentException(shape),
        };
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Select_EveryRankOfSmallInputs_MatchesSorting(string shape)
    {
        for (int n = 1; n <= 40; n++)
        {
            double[] sorted = Make(shape, n, n);
            Array.Sort(sorted);
            for (int k = 0; k < n; k++)
            {
                double[] values = Make(shape, n, n);
                Assert.Equal(sorted[k], OrderStatistics.Select(values, k));
                Assert.Equal(sorted[k], values[k]);
                Assert.All(values[..k], v => Assert.True(v <= sorted[k]));
                Assert.All(values[(k + 1)..], v => Assert.True(v >= sorted[k]));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MedianAndSelectBeside_LargeInputs_MatchSorting(string shape)
    {
        foreach (int n in new[] { 8191, 8192 })
        {
            double[] values = Make(shape, n, 42);
            double[] sorted = (double[])values.Clone();
            Array.Sort(sorted);
            double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;

            Assert.Equal(median, OrderStatistics.Median(values));
            Assert.Equal(sorted[n / 40], OrderStatistics.SelectBeside(values, n / 2, n / 40));
            Assert.Equal(sorted[n - n / 40], OrderStatistics.SelectBeside(values, n / 2, n - n / 40));
            Assert.Equal(sorted[n / 2], OrderStatistics.SelectBeside(values, n / 2, n / 2));

            // Still a permutation of the input.
            Array.Sort(values);
            Assert.Equal(sorted, values);
        }
    }

    [Fact]
    public void Select_RankOutsideTheSpan_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OrderStatistics.Select(new double[3], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => OrderStatistics.Select([], 0));
    }
}
