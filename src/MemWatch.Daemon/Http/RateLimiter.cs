using System.Collections.Concurrent;

namespace MemWatch.Daemon.Http;

/// <summary>
/// Token buckets by key (a target PID, or one key for a global budget): <see cref="Burst"/> requests at once, refilled
/// at <see cref="PerSecond"/>. The key table is bounded; when full it is cleared, which errs towards allowing: keys
/// that come from clients use <see cref="ClientLimiter"/>, which cannot be flushed.
/// </summary>
internal sealed class RateLimiter
{
    private const int MaxKeys = 10_000;
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    private readonly TimeProvider _time;

    public RateLimiter(double perSecond, double burst, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
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

        long now = TokenBucket.NowMs(_time);
        TokenBucket bucket = _buckets.GetOrAdd(key, static (_, state) => new TokenBucket(state.Burst, state.now), (Burst, now));
        return bucket.TryTake(PerSecond, Burst, now, out retryAfterSeconds);
    }

    /// <summary>True when <paramref name="key"/> has a token left, without taking it.</summary>
    public bool TryPeek(string key) =>
        !_buckets.TryGetValue(key, out TokenBucket? bucket) || bucket.Peek(PerSecond, Burst, TokenBucket.NowMs(_time)) >= 1;
}
