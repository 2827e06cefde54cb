using System.Net;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Http;

/// <summary>
/// Who may use an /api route. Reads need the bearer token unless <c>Auth.AnonymousReads</c>; actions always do. Wrong
/// tokens are limited before any comparison: per client network (<see cref="ClientLimiter"/>: 5 at once, then one per
/// 10 s) and over all networks together (20 at once, then one per second), so guessing costs time whatever the number
/// of addresses used. Each network's failures are logged at most once a minute, with the count held back meanwhile.
/// </summary>
internal sealed partial class AuthGate
{
    private readonly BearerAuthenticator _auth;
    private readonly DaemonSettings _settings;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ClientLimiter _networkFailures;
    private readonly RateLimiter _allFailures;
    private readonly long[] _lastLoggedMs = new long[ClientLimiter.Slots];
    private readonly int[] _heldBack = new int[ClientLimiter.Slots];

    public AuthGate(BearerAuthenticator auth, DaemonSettings settings, TimeProvider time, ILogger<AuthGate> log)
    {
        _time = time;
        _networkFailures = new ClientLimiter(perSecond: 0.1, burst: 5, time);
        _allFailures = new RateLimiter(perSecond: 1, burst: 20, time);
        _auth = auth;
        _settings = settings;
        _log = log;
    }

    /// <summary>
    /// Null when the request may go on (<paramref name="authenticated"/> tells a token holder from an anonymous reader);
    /// otherwise the error answer, already being written.
    /// </summary>
    public Task? Check(HttpContext context, bool read, string what, out bool authenticated)
    {
        authenticated = false;
        string? header = context.Request.Headers.Authorization.ToString() is { Length: > 0 } h ? h : null;
        if (!_auth.Enabled)
        {
            if (read && _settings.AnonymousReads)
            {
                return null;
            }

            return read
                ? Problems.Write(context, StatusCodes.Status403Forbidden, "reads-disabled",
                    "the /api reads need the bearer token, and the daemon has no Auth.TokenFile configured (or set Auth.AnonymousReads)")
                : Problems.Write(context, StatusCodes.Status403Forbidden, "actions-disabled", "control actions are disabled: the daemon has no Auth.TokenFile configured");
        }

        if (header is null)
        {
            if (read && _settings.AnonymousReads)
            {
                return null;
            }

            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Write(context, StatusCodes.Status401Unauthorized, "unauthorized", "send Authorization: Bearer <token from Auth.TokenFile>");
        }

        IPAddress? client = context.Connection.RemoteIpAddress;
        if (_networkFailures.IsExhausted(client) || !_allFailures.TryPeek("all"))
        {
            NoteFailure(client, what, limited: true);
            context.Response.Headers.RetryAfter = "10";
            return Problems.Write(context, StatusCodes.Status429TooManyRequests, "rate-limited", "too many wrong tokens; retry later");
        }

        switch (_auth.Check(header))
        {
            case BearerCheck.Valid:
                authenticated = true;
                return null;
            case BearerCheck.Missing:
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return Problems.Write(context, StatusCodes.Status401Unauthorized, "unauthorized", "send Authorization: Bearer <token from Auth.TokenFile>");
            default:
                _networkFailures.TryAcquire(client, out _);
                _allFailures.TryAcquire("all", out _);
                NoteFailure(client, what, limited: false);
                context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                return Problems.Write(context, StatusCodes.Status401Unauthorized, "unauthorized", "the bearer token is not valid");
        }
    }

    /// <summary>Logs a network's failures at most once a minute; the ones in between are counted into the next line.</summary>
    private void NoteFailure(IPAddress? client, string what, bool limited)
    {
        int slot = _networkFailures.Slot(client);
        long now = TokenBucket.NowMs(_time);
        long last = Volatile.Read(ref _lastLoggedMs[slot]);
        if (last != 0 && now - last < 60_000)
        {
            Interlocked.Increment(ref _heldBack[slot]);
            return;
        }

        if (Interlocked.CompareExchange(ref _lastLoggedMs[slot], now, last) != last)
        {
            Interlocked.Increment(ref _heldBack[slot]);
            return;
        }

        int held = Interlocked.Exchange(ref _heldBack[slot], 0);
        _log.RequestRejected(what, ClientLimiter.NetworkText(client), limited ? "rate-limited" : "invalid token", held);
    }
}
