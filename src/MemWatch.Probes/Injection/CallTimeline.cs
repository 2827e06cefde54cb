using System.Diagnostics;

namespace MemWatch.Probes.Injection;

/// <summary>
/// The Stopwatch timestamps of one call's phase boundaries, from the stop to the release: what
/// <see cref="RemoteCallResult.Phases"/> reports. A dozen clock reads per call; one call at a time per session.
/// </summary>
internal sealed class CallTimeline
{
    public const int Stop = 0, Seized = 1, Identified = 2, Seccomp = 3, Located = 4, Unwound = 5, LocksRead = 6, Checked = 7,
        Resumed = 8, Returned = 9, StoppedAgain = 10, Restored = 11, Released = 12;

    private readonly long[] _marks = new long[Released + 1];

    /// <summary>Forgets the last call's marks; the pause starts at <paramref name="stopRequested"/>.</summary>
    public void Start(long stopRequested)
    {
        Array.Clear(_marks);
        _marks[Stop] = stopRequested;
    }

    public void Mark(int boundary) => _marks[boundary] = Stopwatch.GetTimestamp();

    public void Set(int boundary, long timestamp) => _marks[boundary] = timestamp;

    /// <summary>The safe-point rule's own boundaries (<see cref="SafePoints.SafePointRule.LastCheckTimes"/>).</summary>
    public void SetCheckTimes((long Located, long Unwound, long LocksRead) times)
        => (_marks[Located], _marks[Unwound], _marks[LocksRead]) = times;

    public RemoteCallPhases Phases()
    {
        long[] m = _marks;
        return new RemoteCallPhases(
            Nanoseconds(m[Seized] - m[Stop]),
            Nanoseconds(m[Identified] - m[Seized]),
            Nanoseconds(m[Seccomp] - m[Identified]),
            Nanoseconds(m[Located] - m[Seccomp]),
            Nanoseconds(m[Unwound] - m[Located]),
            Nanoseconds(m[LocksRead] - m[Unwound]),
            Nanoseconds(m[Checked] - m[LocksRead]),
            Nanoseconds(m[Resumed] - m[Checked]),
            Nanoseconds(m[Returned] - m[Resumed]),
            Nanoseconds(m[StoppedAgain] - m[Returned]),
            Nanoseconds(m[Restored] - m[StoppedAgain]),
            Nanoseconds(m[Released] - m[Restored]));
    }

    private static long Nanoseconds(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));
}
