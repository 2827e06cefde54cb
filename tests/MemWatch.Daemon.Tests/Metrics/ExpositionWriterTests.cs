using System.Text;
using MemWatch.Daemon.Metrics;

namespace MemWatch.Daemon.Tests.Metrics;

/// <summary>The exposition writer's output, byte for byte, in both formats.</summary>
public sealed class ExpositionWriterTests
{
    private static string Write(ExpositionFormat format, Action<ExpositionWriter> write)
    {
        var w = new ExpositionWriter(format, initialCapacity: 16);
        write(w);
        w.Finish();
        return Encoding.UTF8.GetString(w.Written.Span);
    }

    [Fact]
    public void GaugeCounterAndEscapingInTheTextFormat()
    {
        LabelSet labels = LabelSet.Create(("pid", "7"), ("comm", "a\"b\\c\nd"));
        string text = Write(ExpositionFormat.PrometheusText, w =>
        {
            w.Family("x_bytes", MetricType.Gauge, "Help with \\ and\nnewline.", "bytes");
            w.Sample("x_bytes", labels, 1.5);
            w.Family("y", MetricType.Counter, "Counts.");
            w.Sample("y", labels, "reason", "é", 3);
            w.Sample("y", LabelSet.Empty, double.PositiveInfinity);
        });

        Assert.Equal(
            "# HELP x_bytes Help with \\\\ and\\nnewline.\n# TYPE x_bytes gauge\n" +
            "x_bytes{pid=\"7\",comm=\"a\\\"b\\\\c\\nd\"} 1.5\n" +
            "# HELP y_total Counts.\n# TYPE y_total counter\n" +
            "y_total{pid=\"7\",comm=\"a\\\"b\\\\c\\nd\",reason=\"é\"} 3\n" +
            "y_total +Inf\n",
            text);
    }

    [Fact]
    public void OpenMetricsNamesCounterFamiliesWithoutTotalAndEndsWithEof()
    {
        string text = Write(ExpositionFormat.OpenMetrics, w =>
        {
            w.Family("x_bytes", MetricType.Gauge, "Say \"hi\".", "bytes");
            w.Sample("x_bytes", LabelSet.Empty, double.NaN);
            w.Family("y", MetricType.Counter, "Counts.");
            w.Sample("y", LabelSet.Empty, 2);
        });

        Assert.Equal(
            "# TYPE x_bytes gauge\n# UNIT x_bytes bytes\n# HELP x_bytes Say \\\"hi\\\".\nx_bytes NaN\n" +
            "# TYPE y counter\n# HELP y Counts.\ny_total 2\n# EOF\n",
            text);
    }

    [Fact]
    public void StateSetIsAGaugeInTextAndAStateSetInOpenMetrics()
    {
        LabelSet labels = LabelSet.Create(("pid", "1"));
        void Write(ExpositionWriter w)
        {
            w.Family("v", MetricType.StateSet, "Verdict.");
            w.StateSet("v", labels, "kind", ["a", "b"], "b");
        }

        Assert.Equal("# HELP v Verdict.\n# TYPE v gauge\nv{pid=\"1\",kind=\"a\"} 0\nv{pid=\"1\",kind=\"b\"} 1\n", ExpositionWriterTests.Write(ExpositionFormat.PrometheusText, Write));
        Assert.StartsWith("# TYPE v stateset\n", ExpositionWriterTests.Write(ExpositionFormat.OpenMetrics, Write));
    }

    [Fact]
    public void HistogramBucketsAreCumulativeWithInfSumAndCount()
    {
        var h = new DurationHistogram([0.001, 0.01]);
        h.Observe(0.0005);
        h.Observe(0.005);
        h.Observe(0.5);
        Span<long> cumulative = stackalloc long[2];
        (double sum, long count) = h.Snapshot(cumulative);
        long[] buckets = cumulative.ToArray();
        string text = Write(ExpositionFormat.PrometheusText, w =>
        {
            w.Family("d_seconds", MetricType.Histogram, "Durations.", "seconds");
            w.Histogram("d_seconds", LabelSet.Create(("depth", "status")), [0.001, 0.01], buckets, sum, count);
        });

        Assert.Contains("d_seconds_bucket{depth=\"status\",le=\"0.001\"} 1\n", text);
        Assert.Contains("d_seconds_bucket{depth=\"status\",le=\"0.01\"} 2\n", text);
        Assert.Contains("d_seconds_bucket{depth=\"status\",le=\"+Inf\"} 3\n", text);
        Assert.Contains("d_seconds_sum{depth=\"status\"} 0.5055\n", text);
        Assert.Contains("d_seconds_count{depth=\"status\"} 3\n", text);
    }

    [Fact]
    public void TheBufferGrowsFromATinyStart()
    {
        string text = Write(ExpositionFormat.PrometheusText, w =>
        {
            w.Family("big", MetricType.Gauge, "Many samples.");
            for (int i = 0; i < 10_000; i++)
            {
                w.Sample("big", LabelSet.Create(("i", i.ToString(System.Globalization.CultureInfo.InvariantCulture))), i);
            }
        });

        Assert.Equal(10_002, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.EndsWith("big{i=\"9999\"} 9999\n", text);
    }

    [Theory]
    [InlineData(null, ExpositionFormat.PrometheusText)]
    [InlineData("text/plain", ExpositionFormat.PrometheusText)]
    [InlineData("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", ExpositionFormat.OpenMetrics)]
    [InlineData("application/openmetrics-text", ExpositionFormat.OpenMetrics)]
    [InlineData("application/openmetrics-text; version=0.0.1", ExpositionFormat.PrometheusText)]
    [InlineData("application/openmetrics-text;q=0", ExpositionFormat.PrometheusText)]
    [InlineData("garbage;;;,,", ExpositionFormat.PrometheusText)]
    public void NegotiationFollowsTheAcceptHeader(string? accept, object expected)
    {
        // The parameter is object: a public test method cannot take the daemon's internal enum.
        Assert.Equal((ExpositionFormat)expected, ExpositionNegotiation.Choose(accept));
    }
}
