using System.Collections.Concurrent;

namespace MemWatch.Daemon.Http;

/// <summary>
/// Token buckets by key (a target PID, or one key for a global budget): <see cref="Burst"/> requests at once, refilled
/// at <see cref="PerSecond"/>. The key table is bounded; when full it is cleared, which errs towards allowing: keys
/// that come from clients use <see cref="ClientLimiter"/>, which cannot be flushed.
/// </summary>
public sealed class RateLimiter
{
    private const int MaxKeys = 10_000;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    public RateLimiter(double perSecond, double burst)
    {
        PerSecond = perSecond;
        Burst = burst;
    }

    public double PerSecond { get; }

    public double Burst { get; }

    /// <summary>Takes one token; false (with the seconds until the next one) when the bucket is empty.</summary>
    public bool TryAcquire(string key, out double retryAfterSeconds)
    {
        if (_buckets.Count > MaxKeys)
        {
            _buckets.Clear();
        }

        Bucket bucket = _buckets.GetOrAdd(key, static (_, burst) => new Bucket(burst), Burst);
        return bucket.TryTake(PerSecond, Burst, Environment.TickCount64, out retryAfterSeconds);
    }

    /// <summary>True when <paramref name="key"/> has a token left, without taking it.</summary>
    public bool TryPeek(string key) =>
        !_buckets.TryGetValue(key, out Bucket? bucket) || bucket.Peek(PerSecond, Burst, Environment.TickCount64) >= 1;

    private sealed class Bucket
    {
        private readonly Lock _lock = new();
        private double _tokens;
        private long _lastMs;

        public Bucket(double burst)
        {
            _tokens = burst;
            _lastMs = Environment.TickCount64;
        }

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
}
