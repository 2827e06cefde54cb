using MemWatch.Probes.Analysis;

namespace MemWatch.Probes.Verdicts;

/// <summary>
/// Follows one process after a release: give it the samples taken just before and just after, then every later sample;
/// <see cref="Result"/> says what fraction of the released bytes came back and how fast. A release that is re-faulted
/// within minutes only buys a fault storm: the classifier turns that into advice to fix the allocator settings instead.
/// </summary>
/// <remarks>Keeps four numbers per release and allocates only when <see cref="Result"/> is read. Not thread-safe.</remarks>
public sealed class TrimEfficacyTracker
{
    private readonly MemorySample _after;
    private readonly ulong _released;
    private MemorySample _latest;
    private long _halfAtMilliseconds = -1;

    /// <param name="before">A sample taken just before the release.</param>
    /// <param name="after">A sample of the same process taken just after it.</param>
    public TrimEfficacyTracker(in MemorySample before, in MemorySample after)
    {
        if (before.StartTimeTicks != after.StartTimeTicks)
        {
            throw new ArgumentException("the samples before and after the release are of different processes", nameof(after));
        }

        _after = after;
        _latest = after;
        _released = before.RssBytes > after.RssBytes ? before.RssBytes - after.RssBytes : 0;
    }

    /// <summary>True once the process was replaced (PID reuse); later samples are ignored.</summary>
    public bool ProcessReplaced { get; private set; }

    /// <summary>Takes a later sample into account; older samples and samples of another process are ignored.</summary>
    public void Observe(in MemorySample sample)
    {
        if (sample.StartTimeTicks != _after.StartTimeTicks)
        {
            ProcessReplaced = true;
            return;
        }

        if (ProcessReplaced || sample.TimestampMilliseconds <= _latest.TimestampMilliseconds)
        {
            return;
        }

        _latest = sample;
        if (_halfAtMilliseconds < 0 && _released > 0 && Regained(sample) * 2 >= _released)
        {
            _halfAtMilliseconds = sample.TimestampMilliseconds;
        }
    }

    public TrimEfficacy Result
    {
        get
        {
            ulong back = Math.Min(Regained(_latest), _released);
            return new TrimEfficacy(
                _after.TimestampMilliseconds,
                _released,
                back,
                _released > 0 ? (double)back / _released : 0,
                _halfAtMilliseconds >= 0 ? (_halfAtMilliseconds - _after.TimestampMilliseconds) / 1000.0 : null,
                _latest.MinorFaults >= _after.MinorFaults ? _latest.MinorFaults - _after.MinorFaults : 0,
                (_latest.TimestampMilliseconds - _after.TimestampMilliseconds) / 1000.0);
        }
    }

    private ulong Regained(in MemorySample s) => s.RssBytes > _after.RssBytes ? s.RssBytes - _after.RssBytes : 0;
}
