namespace MemWatch.Probes.Analysis;

/// <summary>
/// The recent samples of one process: a ring bounded by count and by age, oldest first, plus the high-water marks
/// since the process was first seen. Adding to a full window evicts the oldest sample and allocates nothing.
/// </summary>
/// <remarks>
/// A change of <see cref="MemorySample.StartTimeTicks"/> (the PID was reused by another process) clears the window and
/// the high-water marks, so counters and trends never mix two processes. Not thread-safe: one sampler owns a window.
/// <para>
/// The daemon keeps an hour of samples for each of hundreds of processes, so samples are stored packed, 48 bytes
/// instead of the 88 of a <see cref="MemorySample"/>: sizes in KiB as 32-bit numbers (the kernel reports them in kB),
/// the start time once per window, allocator figures in arrays made only for a window that gets them. A sample whose
/// sizes are not whole KiB below 4 TiB turns the window to full-width storage, so nothing is ever rounded.
/// </para>
/// </remarks>
public sealed class SampleWindow
{
    private readonly int _capacity;
    private PackedSample[]? _packed;
    private MemorySample[]? _wide;
    private double[]? _allocatorInUse;
    private double[]? _allocatorFree;
    private ulong _startTimeTicks;
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
        _capacity = capacity;
        _packed = new PackedSample[capacity];
        _maxAgeMilliseconds = (long)maxAge.TotalMilliseconds;
        MaxAge = maxAge;
    }

    public int Capacity => _capacity;

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
    public MemorySample this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"the window holds {_count} samples");
            }

            return At((_oldest + index) % _capacity);
        }
    }

    public MemorySample Oldest => this[0];

    public MemorySample Newest => this[_count - 1];

    /// <summary>True while samples are stored packed (every size so far a whole number of KiB below 4 TiB).</summary>
    public bool IsPacked => _wide is null;

    /// <summary>Adds a sample: appends it, evicting by count and age; restarts on PID reuse; drops it when out of order.</summary>
    public SampleAdmission Add(in MemorySample sample)
    {
        SampleAdmission admission = SampleAdmission.Appended;
        if (_count > 0)
        {
            if (_startTimeTicks != sample.StartTimeTicks)
            {
                Clear();
                ProcessReplacements++;
                admission = SampleAdmission.ProcessReplaced;
            }
            else if (sample.TimestampMilliseconds <= TimestampAt((_oldest + _count - 1) % _capacity))
            {
                return SampleAdmission.OutOfOrder;
            }
        }

        _startTimeTicks = sample.StartTimeTicks;
        if (_count == _capacity)
        {
            _oldest = (_oldest + 1) % _capacity;
            _count--;
        }

        Store((_oldest + _count) % _capacity, sample);
        _count++;

        long cutoff = sample.TimestampMilliseconds - _maxAgeMilliseconds;
        while (_count > 1 && TimestampAt(_oldest) < cutoff)
        {
            _oldest = (_oldest + 1) % _capacity;
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
        bool allocatorSeries = series is MemorySeries.AllocatorInUse or MemorySeries.AllocatorFree;
        if (_count == 0 || (allocatorSeries && _wide is null && _allocatorInUse is null))
        {
            // No sample of a packed window that never had allocator figures has one.
            return 0;
        }

        long origin = Oldest.TimestampMilliseconds;
        double from = (Newest.TimestampMilliseconds - origin) / 1000.0 - lastSeconds;
        int limit = Math.Min(seconds.Length, values.Length);
        int written = 0;
        for (int i = 0; i < _count && written < limit; i++)
        {
            int slot = (_oldest + i) % _capacity;
            double t = (TimestampAt(slot) - origin) / 1000.0;
            double v = ValueAt(slot, series);
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
            MemorySample previous = At((_oldest + i - 1) % _capacity);
            MemorySample current = At((_oldest + i) % _capacity);
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

    private long TimestampAt(int slot) => _wide is null ? _packed![slot].TimestampMilliseconds : _wide[slot].TimestampMilliseconds;

    // One field of one slot, without building the whole sample: the trend fits read a series at a time.
    private double ValueAt(int slot, MemorySeries series)
    {
        if (_wide is not null)
        {
            return _wide[slot].ValueOf(series);
        }

        ref readonly PackedSample p = ref _packed![slot];
        return series switch
        {
            MemorySeries.Rss => (ulong)p.RssKiB << 10,
            MemorySeries.Anon => (ulong)p.AnonKiB << 10,
            MemorySeries.File => (ulong)p.FileKiB << 10,
            MemorySeries.Shmem => (ulong)p.ShmemKiB << 10,
            MemorySeries.Swap => (ulong)p.SwapKiB << 10,
            MemorySeries.AllocatorInUse => _allocatorInUse?[slot] ?? double.NaN,
            MemorySeries.AllocatorFree => _allocatorFree?[slot] ?? double.NaN,
            _ => throw new ArgumentOutOfRangeException(nameof(series), series, null),
        };
    }

    private MemorySample At(int slot)
    {
        if (_wide is not null)
        {
            return _wide[slot];
        }

        ref readonly PackedSample p = ref _packed![slot];
        return new MemorySample(
            p.TimestampMilliseconds, _startTimeTicks,
            (ulong)p.RssKiB << 10, (ulong)p.AnonKiB << 10, (ulong)p.FileKiB << 10, (ulong)p.ShmemKiB << 10, (ulong)p.SwapKiB << 10,
            p.MinorFaults, p.MajorFaults,
            _allocatorInUse?[slot] ?? double.NaN,
            _allocatorFree?[slot] ?? double.NaN);
    }

    private void Store(int slot, in MemorySample sample)
    {
        if (_wide is null && !PackedSample.Fits(sample))
        {
            Widen();
        }

        if (_wide is not null)
        {
            _wide[slot] = sample;
            return;
        }

        _packed![slot] = new PackedSample(sample);
        if (sample.HasAllocatorCounters && _allocatorInUse is null)
        {
            _allocatorInUse = new double[_capacity];
            _allocatorFree = new double[_capacity];
            Array.Fill(_allocatorInUse, double.NaN);
            Array.Fill(_allocatorFree, double.NaN);
        }

        if (_allocatorInUse is not null)
        {
            _allocatorInUse[slot] = sample.AllocatorInUseBytes;
            _allocatorFree![slot] = sample.AllocatorFreeBytes;
        }
    }

    private void Widen()
    {
        var wide = new MemorySample[_capacity];
        for (int i = 0; i < _count; i++)
        {
            int slot = (_oldest + i) % _capacity;
            wide[slot] = At(slot);
        }

        _wide = wide;
        _packed = null;
        _allocatorInUse = null;
        _allocatorFree = null;
    }

    /// <summary>A sample without its start time, sizes in KiB.</summary>
    private readonly struct PackedSample
    {
        public readonly long TimestampMilliseconds;
        public readonly uint RssKiB;
        public readonly uint AnonKiB;
        public readonly uint FileKiB;
        public readonly uint ShmemKiB;
        public readonly uint SwapKiB;
        public readonly ulong MinorFaults;
        public readonly ulong MajorFaults;

        public PackedSample(in MemorySample s)
        {
            TimestampMilliseconds = s.TimestampMilliseconds;
            RssKiB = (uint)(s.RssBytes >> 10);
            AnonKiB = (uint)(s.AnonBytes >> 10);
            FileKiB = (uint)(s.FileBytes >> 10);
            ShmemKiB = (uint)(s.ShmemBytes >> 10);
            SwapKiB = (uint)(s.SwapBytes >> 10);
            MinorFaults = s.MinorFaults;
            MajorFaults = s.MajorFaults;
        }

        public static bool Fits(in MemorySample s) =>
            Kib(s.RssBytes) && Kib(s.AnonBytes) && Kib(s.FileBytes) && Kib(s.ShmemBytes) && Kib(s.SwapBytes);

        private static bool Kib(ulong bytes) => (bytes & 1023) == 0 && bytes >> 10 <= uint.MaxValue;
    }
}
