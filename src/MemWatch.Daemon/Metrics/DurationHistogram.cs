namespace MemWatch.Daemon.Metrics;

/// <summary>A lock-free histogram of durations in seconds with fixed bucket bounds.</summary>
internal sealed class DurationHistogram
{
    /// <summary>From 100 µs (a status read) to 10 s (smaps of a huge process).</summary>
    public static readonly double[] DefaultBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly double[] _bounds;
    private readonly long[] _counts;
    private long _count;
    private long _sumNanoseconds;

    public DurationHistogram(double[]? bounds = null)
    {
        _bounds = bounds ?? DefaultBounds;
        _counts = new long[_bounds.Length];
    }

    public ReadOnlySpan<double> Bounds => _bounds;

    public long Count => Interlocked.Read(ref _count);

    public void Observe(double seconds)
    {
        for (int i = 0; i < _bounds.Length; i++)
        {
            if (seconds <= _bounds[i])
            {
                Interlocked.Increment(ref _counts[i]);
                break;
            }
        }

        Interlocked.Add(ref _sumNanoseconds, (long)(seconds * 1e9));
        Interlocked.Increment(ref _count);
    }

    /// <summary>Copies cumulative bucket counts into <paramref name="cumulative"/> (one per bound) and returns the sum and count.</summary>
    public (double Sum, long Count) Snapshot(Span<long> cumulative)
    {
        long running = 0;
        for (int i = 0; i < _bounds.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            cumulative[i] = running;
        }

        // The count is read last and at least the buckets' total, so buckets never exceed +Inf.
        long count = Math.Max(Interlocked.Read(ref _count), running);
        return (Interlocked.Read(ref _sumNanoseconds) / 1e9, count);
    }
}
