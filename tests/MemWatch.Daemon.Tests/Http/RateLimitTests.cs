using System.Net;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace MemWatch.Daemon.Tests.Http;

/// <summary>
/// The API's rate limits on a fake clock: buckets refill exactly as configured, wrong tokens are limited per network and
/// overall before any comparison, and each network's failures are logged at most once a minute. Nothing sleeps.
/// </summary>
public sealed class RateLimitTests
{
    private static readonly byte[] s_token = "right-token-0123456789"u8.ToArray();

    [Fact]
    public void RateLimiter_BurstThenRefusedWithTheRetryTime_RefilledByTime()
    {
        var time = new FakeTimeProvider();
        var limiter = new RateLimiter(perSecond: 0.5, burst: 3, time);

        Assert.True(limiter.TryAcquire("a", out _));
        Assert.True(limiter.TryAcquire("a", out _));
        Assert.True(limiter.TryAcquire("a", out _));
        Assert.False(limiter.TryAcquire("a", out double retry));
        Assert.Equal(2.0, retry, 3);
        Assert.True(limiter.TryAcquire("b", out _));

        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(limiter.TryAcquire("a", out _));
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(limiter.TryAcquire("a", out _));
    }

    [Fact]
    public void ClientLimiter_OneBucketPerNetwork_RefilledByTime()
    {
        var time = new FakeTimeProvider();
        var limiter = new ClientLimiter(perSecond: 0.1, burst: 2, time);

        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.1"), out _));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.77"), out _));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("192.0.2.200"), out double retry));
        Assert.Equal(10.0, retry, 3);

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("192.0.2.9"), out _));
        Assert.True(limiter.IsExhausted(IPAddress.Parse("192.0.2.9")));
    }

    [Fact]
    public void AuthGate_WrongTokensLimitedPerNetworkBeforeComparing_LoggedOncePerMinute()
    {
        var time = new FakeTimeProvider();
        var log = new RecordingLogger();
        AuthGate gate = Gate(time, log);

        // Five guesses from one /24 are compared; the sixth is refused before comparing.
        for (int i = 1; i <= 5; i++)
        {
            Assert.Equal(StatusCodes.Status401Unauthorized, Check(gate, $"10.1.1.{i}", "wrong"));
        }

        Assert.Equal(StatusCodes.Status429TooManyRequests, Check(gate, "10.1.1.99", "wrong"));
        Assert.Single(log.Lines, l => l.Contains("10.1.1.0/24", StringComparison.Ordinal));

        // One more comparison per 10 s; still one log line within the minute.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(StatusCodes.Status401Unauthorized, Check(gate, "10.1.1.5", "wrong"));
        Assert.Equal(StatusCodes.Status429TooManyRequests, Check(gate, "10.1.1.5", "wrong"));
        Assert.Single(log.Lines, l => l.Contains("10.1.1.0/24", StringComparison.Ordinal));

        // After a minute the next failure is logged with the count held back meanwhile.
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(StatusCodes.Status401Unauthorized, Check(gate, "10.1.1.5", "wrong"));
        Assert.Equal(2, log.Lines.Count(l => l.Contains("10.1.1.0/24", StringComparison.Ordinal)));
        Assert.Contains("(7 more from that network", log.Lines[^1]);
    }

    [Fact]
    public void AuthGate_OverallBudgetSpent_RightTokenRefusedUntilItRefills()
    {
        var time = new FakeTimeProvider();
        AuthGate gate = Gate(time, new RecordingLogger());

        // Twenty networks, one guess each, spend the overall budget: the twenty-first network is refused unheard.
        for (int n = 0; n < 20; n++)
        {
            Assert.Equal(StatusCodes.Status401Unauthorized, Check(gate, $"10.2.{n}.1", "wrong"));
        }

        Assert.Equal(StatusCodes.Status429TooManyRequests, Check(gate, "10.3.0.1", "wrong"));
        Assert.Equal(StatusCodes.Status429TooManyRequests, Check(gate, "10.4.0.1", System.Text.Encoding.UTF8.GetString(s_token)));

        // One comparison a second refills it: the right token from a network that never guessed passes.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(StatusCodes.Status200OK, Check(gate, "10.4.0.1", System.Text.Encoding.UTF8.GetString(s_token)));
    }

    private static AuthGate Gate(TimeProvider time, ILogger<AuthGate> log)
    {
        DaemonSettings defaults = DaemonConfigurationLoader.Validate(new DaemonOptions(), "/var/lib/memwatch-test");
        var settings = new DaemonSettings
        {
            Listen = defaults.Listen,
            StateDirectory = defaults.StateDirectory,
            Token = s_token,
            Sampling = defaults.Sampling,
            Rules = defaults.Rules,
            Logging = defaults.Logging,
        };
        return new AuthGate(new BearerAuthenticator(s_token), settings, time, log);
    }

    /// <summary>The status a trim request with this token from this address gets from the gate (200: let through).</summary>
    private static int Check(AuthGate gate, string address, string token)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        context.Request.Headers.Authorization = "Bearer " + token;
        context.Response.Body = new MemoryStream();
        Task? refused = gate.Check(context, read: false, "trim", out bool authenticated);
        if (refused is null)
        {
            Assert.True(authenticated);
            return StatusCodes.Status200OK;
        }

        refused.GetAwaiter().GetResult();
        return context.Response.StatusCode;
    }

    private sealed class RecordingLogger : ILogger<AuthGate>
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
