namespace MemWatch.Probes.Analysis;

/// <summary>Turns a <see cref="SampleWindow"/> into a <see cref="WindowGrowth"/> with Theil-Sen trends per series.</summary>
/// <remarks>Keeps its scratch arrays between calls; only the returned record is allocated. Not thread-safe.</remarks>
public sealed class GrowthAnalyzer
{
    private readonly TheilSen _theilSen;
    private double[] _seconds;
    private double[] _values;

    public GrowthAnalyzer(int maxPairs = TheilSen.DefaultMaxPairs, int initialPoints = 256)
    {
        _theilSen = new TheilSen(maxPairs, initialPoints);
        _seconds = new double[initialPoints];
        _values = new double[initialPoints];
    }

    /// <summary>The trend of one series over the samples within <paramref name="lastSeconds"/> of the newest one.</summary>
    /// <remarks>Times are seconds after the window's oldest sample. Allocates nothing once the scratch fits the window.</remarks>
    public TrendEstimate Trend(SampleWindow window, MemorySeries series, double lastSeconds = double.PositiveInfinity)
    {
        if (_seconds.Length < window.Count)
        {
            _seconds = new double[window.Capacity];
            _values = new double[window.Capacity];
        }

        int n = window.CopySeries(series, _seconds, _values, lastSeconds);
        return _theilSen.Fit(_seconds.AsSpan(0, n), _values.AsSpan(0, n));
    }

    public WindowGrowth Analyze(SampleWindow window)
    {
        double half = window.SpanSeconds / 2;
        TrendEstimate inUse = Trend(window, MemorySeries.AllocatorInUse);
        TrendEstimate free = Trend(window, MemorySeries.AllocatorFree);
        return new WindowGrowth(
            window.Count,
            window.SpanSeconds,
            Trend(window, MemorySeries.Rss),
            Trend(window, MemorySeries.Rss, half),
            Trend(window, MemorySeries.Anon),
            Trend(window, MemorySeries.File),
            inUse.Points > 0 ? inUse : null,
            free.Points > 0 ? free : null,
            window.ComputeFaultRates(),
            window.ComputeFaultRates(half),
            window.Count > 0 ? window.Newest.RssBytes : 0,
            window.RssHighWaterBytes,
            window.AnonHighWaterBytes);
    }
}
