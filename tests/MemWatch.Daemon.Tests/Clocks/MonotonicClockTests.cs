using MemWatch.Daemon.Clocks;
using Microsoft.Extensions.Time.Testing;

namespace MemWatch.Daemon.Tests.Clocks;

/// <summary>
/// The daemon's loops wait with <see cref="MonotonicClock.Wait"/>: on a fake clock the wait ends when the test advances
/// the clock past it, not before, and a stop request ends it at once.
/// </summary>
public sealed class MonotonicClockTests
{
    [Fact]
    public void Wait_OnAFakeClock_EndsOnlyOnceTheClockHasPassedTheDelay()
    {
        var time = new TimerSignallingFakeTime();
        bool? waited = null;
        var waiter = new Thread(() => waited = time.Wait(TimeSpan.FromMinutes(5), CancellationToken.None));
        waiter.Start();
        time.TimerCreated.Wait();

        time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.True(waiter.IsAlive);
        Assert.Null(waited);

        time.Advance(TimeSpan.FromMilliseconds(1));
        waiter.Join();
        Assert.True(waited);
    }

    [Fact]
    public void Wait_StopRequested_ReturnsFalse()
    {
        var time = new TimerSignallingFakeTime();
        using var stop = new CancellationTokenSource();
        bool? waited = null;
        var waiter = new Thread(() => waited = time.Wait(TimeSpan.FromMinutes(5), stop.Token));
        waiter.Start();
        time.TimerCreated.Wait();

        stop.Cancel();
        waiter.Join();
        Assert.False(waited);
        Assert.False(TimeProvider.System.Wait(TimeSpan.FromMinutes(5), stop.Token));
    }

    [Fact]
    public void MonotonicMilliseconds_MovesWithTheClockToTheMillisecond()
    {
        var time = new FakeTimeProvider();
        long before = time.MonotonicMilliseconds();
        time.Advance(TimeSpan.FromMilliseconds(60_001));
        Assert.Equal(60_001, time.MonotonicMilliseconds() - before);
    }

    /// <summary>Says when a timer has been created, so that the test advances the clock only once the wait has begun.</summary>
    private sealed class TimerSignallingFakeTime : FakeTimeProvider
    {
        public ManualResetEventSlim TimerCreated { get; } = new();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            TimerCreated.Set();
            return timer;
        }
    }
}
