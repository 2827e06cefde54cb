namespace MemWatch.Probes.Analysis;

/// <summary>
/// The recent samples of one process: a ring bounded by count and by age, oldest first, plus the high-water marks
/// since the process was first seen. Adding to a full window evicts the oldest sample and allocates nothing.
/// </summary>
/// <remarks>
/// A change of <see cref="MemorySample.StartTimeTicks"/> (the PID was reused by another process) clears the window and
/// the high-water marks, so counters and trends never mix two processes. Not thread-safe: one sampler owns a window.
/// </remarks>
public sealed class SampleWindow
{
    private readonly MemorySample[] _ring;
    private readonly long _maxAgeMilliseconds;
    private int _oldest;
    private int _count;
    private bool _hasHighWater;

    /// <param name="capacity">The most samples kept.</param>
    /// <param name="maxAge">Samples older than this, measured from the newest, are evicted.</param>
    public SampleWindow(int capacity, TimeSpan maxAge)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxAge, TimeSpan.Zero);
        _ring = new MemorySample[capacity];
        _maxAgeMilliseconds = (long)maxAge.TotalMilliseconds;
        MaxAge = maxAge;
    }

    public int Capacity => _ring.Length;

    public TimeSpan MaxAge { get; }

    public int Count => _count;

    /// <summary>How often the PID was found reused (start time changed) and the window restarted.</summary>
    public int ProcessReplacements { get; private set; }

    /// <summary>Highest RSS seen since the process was first sampled (not only inside the window).</summary>
    public ulong RssHighWaterBytes { get; private set; }

    /// <summary>When <see cref="RssHighWaterBytes"/> was first seen.</summary>
    public long RssHighWaterTimestampMilliseconds { get; private set; }

    /// <summary>Highest anonymous RSS seen since the process was first sampled.</summary>
    public ulong AnonHighWaterBytes { get; private set; }

    /// <summary>Seconds between the oldest and the newest sample; 0 with fewer than two.</summary>
    public double SpanSeconds => _count < 2 ? 0 : (Newest.TimestampMilliseconds - Oldest.TimestampMilliseconds) / 1000.0;

    /// <summary>The sample at <paramref name="index"/>, 0 being the oldest.</summary>
    public ref readonly MemorySample this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"the window holds {_count} samples");
            }

            return ref _ring[(_oldest + index) % _ring.Length];
        }
    }

    public ref readonly MemorySample Oldest => ref this[0];

    public ref readonly MemorySample Newest => ref this[_count - 1];

    /// <summary>Adds a sample: appends it, evicting by count and age; restarts on PID reuse; drops it when out of order.</summary>
    public SampleAdmission Add(in MemorySample sample)
    {
        SampleAdmission admission = SampleAdmission.Appended;
        if (_count > 0)
        {
            ref readonly MemorySample newest = ref Newest;
            if (newest.StartTimeTicks != sample.StartTimeTicks)
            {
                Clear();
                ProcessReplacements++;
                admission = SampleAdmission.ProcessReplaced;
            }
            else if (sample.TimestampMilliseconds <= newest.TimestampMilliseconds)
            {
                return SampleAdmission.OutOfOrder;
            }
        }

        if (_count == _ring.Length)
        {
            _oldest = (_oldest + 1) % _ring.Length;
            _count--;
        }

        _ring[(_oldest + _count) % _ring.Length] = sample;
        _count++;

        long cutoff = sample.TimestampMilliseconds - _maxAgeMilliseconds;
        while (_count > 1 && _ring[_oldest].TimestampMilliseconds < cutoff)
        {
            _oldest = (_oldest + 1) % _ring.Length;
            _count--;
        }

        if (!_hasHighWater || sample.RssBytes > RssHighWaterBytes)
        {
            _hasHighWater = true;
            RssHighWaterBytes = sample.RssBytes;
            RssHighWaterTimestampMilliseconds = sample.TimestampMilliseconds;
        }

        AnonHighWaterBytes = Math.Max(AnonHighWaterBytes, sample.AnonBytes);
        return admission;
    }

    /// <summary>Forgets every sample and the high-water marks (the replacement count is kept).</summary>
    public void Clear()
    {
        _oldest = 0;
        _count = 0;
        _hasHighWater = false;
        RssHighWaterBytes = 0;
        RssHighWaterTimestampMilliseconds = 0;
        AnonHighWaterBytes = 0;
    }

    /// <summary>
    /// Copies one series into <paramref name="seconds"/> (relative to the oldest sample) and <paramref name="values"/>,
    /// oldest first, leaving out NaN values and samples older than <paramref name="lastSeconds"/> before the newest.
    /// </summary>
    /// <returns>The number of points written; at most the shorter span's length.</returns>
    public int CopySeries(MemorySeries series, Span<double> seconds, Span<double> values, double lastSeconds = double.PositiveInfinity)
    {
        if (_count == 0)
        {
            return 0;
        }

        long origin = Oldest.TimestampMilliseconds;
        double from = (Newest.TimestampMilliseconds - origin) / 1000.0 - lastSeconds;
        int limit = Math.Min(seconds.Length, values.Length);
        int written = 0;
        for (int i = 0; i < _count && written < limit; i++)
        {
            ref readonly MemorySample s = ref _ring[(_oldest + i) % _ring.Length];
            double t = (s.TimestampMilliseconds - origin) / 1000.0;
            double v = s.ValueOf(series);
            if (t < from || double.IsNaN(v))
            {
                continue;
            }

            seconds[written] = t;
            values[written] = v;
            written++;
        }

        return written;
    }

    /// <summary>
    /// Fault rates over the intervals that lie within the last <paramref name="lastSeconds"/> before the newest sample. An interval
    /// in which either counter went backwards is left out (counted in <see cref="FaultRates.CounterResets"/>).
    /// </summary>
    /// <returns>Null with fewer than two samples or no usable interval.</returns>
    public FaultRates? ComputeFaultRates(double lastSeconds = double.PositiveInfinity)
    {
        if (_count < 2)
        {
            return null;
        }

        double from = Newest.TimestampMilliseconds - lastSeconds * 1000.0;
        double minor = 0, major = 0, seconds = 0;
        int resets = 0;
        for (int i = 1; i < _count; i++)
        {
            ref readonly MemorySample previous = ref _ring[(_oldest + i - 1) % _ring.Length];
            ref readonly MemorySample current = ref _ring[(_oldest + i) % _ring.Length];
            if (previous.TimestampMilliseconds < from)
            {
                continue;
            }

            if (current.MinorFaults < previous.MinorFaults || current.MajorFaults < previous.MajorFaults)
            {
                resets++;
                continue;
            }

            minor += current.MinorFaults - previous.MinorFaults;
            major += current.MajorFaults - previous.MajorFaults;
            seconds += (current.TimestampMilliseconds - previous.TimestampMilliseconds) / 1000.0;
        }

        return seconds > 0 ? new FaultRates(minor / seconds, major / seconds, seconds, resets) : null;
    }
}
