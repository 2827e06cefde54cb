using MemWatch.Daemon.Clocks;

namespace MemWatch.Daemon.Http;

/// <summary>
/// One token bucket: <c>burst</c> tokens at once, refilled at <c>perSecond</c>, on the milliseconds of a
/// <see cref="TimeProvider"/> (fake in tests). <see cref="RateLimiter"/> keeps them by key, <see cref="ClientLimiter"/>
/// by network slot.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private double _tokens;
    private long _lastMs;

    public TokenBucket(double burst, long nowMs)
    {
        _tokens = burst;
        _lastMs = nowMs;
    }

    /// <summary>The provider's monotonic clock in milliseconds.</summary>
    public static long NowMs(TimeProvider time) => time.MonotonicMilliseconds();

    public bool TryTake(double perSecond, double burst, long nowMs, out double retryAfterSeconds)
    {
        lock (_lock)
        {
            _tokens = Math.Min(burst, _tokens + (nowMs - _lastMs) / 1000.0 * perSecond);
            _lastMs = nowMs;
            if (_tokens >= 1)
            {
                _tokens -= 1;
                retryAfterSeconds = 0;
                return true;
            }

            retryAfterSeconds = (1 - _tokens) / perSecond;
            return false;
        }
    }

    public double Peek(double perSecond, double burst, long nowMs)
    {
        lock (_lock)
        {
            return Math.Min(burst, _tokens + (nowMs - _lastMs) / 1000.0 * perSecond);
        }
    }
}
