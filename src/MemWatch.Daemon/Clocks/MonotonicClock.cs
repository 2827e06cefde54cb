namespace MemWatch.Daemon.Clocks;

/// <summary>
/// The daemon's schedules on the injected <see cref="TimeProvider"/> (the system's in the daemon, a fake one in
/// tests): its monotonic clock in milliseconds, and a wait that a stop request cuts short.
/// </summary>
internal static class MonotonicClock
{
    /// <summary>The provider's monotonic clock in milliseconds, in integers: a double loses the last millisecond of a large timestamp.</summary>
    public static long MonotonicMilliseconds(this TimeProvider time)
    {
        long ticks = time.GetTimestamp();
        long frequency = time.TimestampFrequency;
        return ticks / frequency * 1000 + ticks % frequency * 1000 / frequency;
    }

    /// <summary>Waits <paramref name="delay"/> on the provider's clock; false if <paramref name="stop"/> came first.</summary>
    public static bool Wait(this TimeProvider time, TimeSpan delay, CancellationToken stop)
    {
        if (delay <= TimeSpan.Zero)
        {
            return !stop.IsCancellationRequested;
        }

        if (ReferenceEquals(time, TimeProvider.System))
        {
            // The system clock waits on the token's handle: no timer or task for each of the daemon's waits.
            return !stop.WaitHandle.WaitOne(delay);
        }

        try
        {
            Task.Delay(delay, time, stop).Wait(CancellationToken.None);
            return true;
        }
        catch (AggregateException e) when (e.InnerException is TaskCanceledException)
        {
            return false;
        }
    }
}
