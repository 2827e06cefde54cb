using MemWatch.Probes.Analysis;

namespace MemWatch.Probes.Verdicts;

/// <summary>The figures of the window every rule looks at, computed once without allocating.</summary>
internal readonly struct WindowFigures
{
    public WindowFigures(ClassifierInput input, ClassifierOptions o)
    {
        WindowGrowth g = input.Growth;
        SampleWindow w = input.Window;
        Span = Math.Max(g.SpanSeconds, 0);
        RssSlope = Slope(g.Rss);
        RssGrowth = RssSlope * Span;
        RssLatest = g.RssLatestBytes;
        AnonLatest = w.Count > 0 ? w.Newest.AnonBytes : 0;
        double minGrowth = Math.Max(o.MinGrowthBytes, o.MinGrowthFractionOfRss * RssLatest);

        Ongoing = g.Rss.IsSignificantlyRising
            && RssGrowth >= minGrowth
            && g.RecentRss.IsValid
            && g.RecentRss.SlopePerSecond >= o.OngoingRecentSlopeFraction * RssSlope;

        // A burst: the newest level against the lowest level seen in the window.
        ulong low = ulong.MaxValue;
        for (int i = 0; i < w.Count; i++)
        {
            low = Math.Min(low, w[i].RssBytes);
        }

        Step = w.Count > 1 && RssLatest > low ? RssLatest - low : 0;
        Stepped = !Ongoing && Step >= minGrowth;
        Quiet = g.RecentFaults is { } rf && rf.MinorPerSecond <= o.QuietMinorFaultsPerSecond;
    }

    public double Span { get; }

    public double RssSlope { get; }

    public double RssGrowth { get; }

    public double RssLatest { get; }

    public double AnonLatest { get; }

    public bool Ongoing { get; }

    public double Step { get; }

    public bool Stepped { get; }

    public bool Quiet { get; }

    /// <summary>The allocator's in-use and free growth over the window, NaN when not known.</summary>
    public (double InUse, double Free) InUseAndFreeGrowth(ClassifierInput input)
    {
        if (input.LatestStatistics is { InUseBytes: { } u1 } s1 && input.EarliestStatistics is { InUseBytes: { } u0 } s0)
        {
            return ((double)u1 - u0, (double)(s1.FreeBytes ?? 0) - (s0.FreeBytes ?? 0));
        }

        WindowGrowth g = input.Growth;
        return g.AllocatorInUse is { IsValid: true } inUse && g.AllocatorFree is { IsValid: true } freeTrend
            ? (inUse.SlopePerSecond * Span, freeTrend.SlopePerSecond * Span)
            : (double.NaN, double.NaN);
    }

    public static double Slope(in TrendEstimate t) => t.IsValid ? t.SlopePerSecond : 0;
}
