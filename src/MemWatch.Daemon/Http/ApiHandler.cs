using MemWatch.Daemon.Attribution;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Remediation;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.ProcFs;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Http;

/// <summary>
/// Every HTTP route of the daemon, dispatched by hand (no MVC, no reflection): /metrics, /healthz, /readyz,
/// /api/targets[/{pid}[/trim|/gc|/attribute|/attribution]], to <see cref="ApiViews"/> (reads) and
/// <see cref="ControlActions"/> (actions). Errors are RFC 9457 problem details (<see cref="Problems"/>); nothing ever
/// answers with a stack trace.
/// </summary>
/// <remarks>
/// /api routes check, in order: a body (413: no route takes one), the client's rate (429), the token (<see cref="AuthGate"/>:
/// 403 when none is configured, 429 after too many wrong ones, 401); actions then the PID (400, 404), the rule's
/// AllowActions (403), for gc a .NET runtime (422), the target's rate (429), a concurrent action (409).
/// </remarks>
internal sealed partial class ApiHandler
{
    public const long MaxRequestBodyBytes = 4096;

    private readonly AuthGate _auth;
    private readonly DaemonSettings _settings;
    private readonly ApiViews _views;
    private readonly ControlActions _control;
    private readonly ILogger _log;
    private readonly ClientLimiter _clientRequests;

    public ApiHandler(
        TargetRegistry registry,
        DaemonHealth health,
        MetricsRenderer metrics,
        AllocatorActions actions,
        DotNetActions dotnet,
        AuthGate auth,
        DaemonSettings settings,
        AttributionService attribution,
        ProcFileSystem fs,
        TimeProvider time,
        ILogger<ApiHandler> log)
    {
        _auth = auth;
        _settings = settings;
        _log = log;
        _clientRequests = new ClientLimiter(perSecond: 20, burst: 40, time);
        _views = new ApiViews(registry, health, metrics, settings, attribution, fs, time, log);
        _control = new ControlActions(registry, actions, dotnet, auth, attribution, time);
    }

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await DispatchAsync(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception e)
        {
            _log.RequestFailed(context.Request.Method, context.Request.Path.Value ?? "", e);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ApiResponses.Error(context, StatusCodes.Status500InternalServerError, "internal", "the daemon failed to answer this request; see its log");
            }
        }
    }

    private async Task DispatchAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (request.ContentLength is > MaxRequestBodyBytes || (request.ContentLength is null && !await BodyWithinLimit(context)))
        {
            // A chunked body has no Content-Length: it is read (up to the limit) before anything runs.
            await ApiResponses.Error(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", $"request bodies are limited to {MaxRequestBodyBytes} bytes; no route takes a body");
            return;
        }

        await RouteAsync(context);
    }

    /// <summary>Reads a body sent without Content-Length (chunked); false when it passes the limit.</summary>
    private static async Task<bool> BodyWithinLimit(HttpContext context)
    {
        if (context.Request.Headers.TransferEncoding.Count == 0)
        {
            return true;
        }

        byte[] buffer = new byte[MaxRequestBodyBytes + 1];
        int total = 0;
        try
        {
            int n;
            while ((n = await context.Request.Body.ReadAsync(buffer.AsMemory(total), context.RequestAborted)) > 0)
            {
                total += n;
                if (total > MaxRequestBodyBytes)
                {
                    return false;
                }
            }
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's own MaxRequestBodySize stopped the read.
            return false;
        }

        return true;
    }

    private Task RouteAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string path = request.Path.Value ?? "/";
        if (path.Length > 1 && path.EndsWith('/'))
        {
            path = path.TrimEnd('/');
        }

        switch (path)
        {
            case "/metrics":
                return Get(context) ?? _views.Metrics(context);
            case "/healthz":
                return Get(context) ?? _views.Healthz(context);
            case "/readyz":
                return Get(context) ?? _views.Readyz(context);
            case "/api/targets":
                return Get(context) ?? Limited(context) ?? _auth.Check(context, read: true, "read", out bool _) ?? _views.Targets(context);
        }

        const string prefix = "/api/targets/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return ApiResponses.Error(context, StatusCodes.Status404NotFound, "not-found", $"no route {ApiResponses.Truncate(path)}; see /api/targets, /metrics, /healthz, /readyz");
        }

        string rest = path[prefix.Length..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string pidText = slash < 0 ? rest : rest[..slash];
        string action = slash < 0 ? "" : rest[(slash + 1)..];
        return action switch
        {
            "" => Get(context) ?? Limited(context) ?? _auth.Check(context, read: true, "read", out bool authenticated)
                ?? _views.Detail(context, pidText, showCommandLine: authenticated || _settings.AnonymousCommandLines),
            "trim" or "gc" or "attribute" => Post(context) ?? _control.ControlAsync(context, pidText, action),
            "attribution" => Get(context) ?? Limited(context) ?? _views.LatestAttribution(context, pidText),
            _ => ApiResponses.Error(context, StatusCodes.Status404NotFound, "not-found", $"no action '{ApiResponses.Truncate(action)}'; the actions are trim, gc and attribute"),
        };
    }

    private static Task? Get(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
            ? null
            : MethodNotAllowed(context, "GET");

    private static Task? Post(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) ? null : MethodNotAllowed(context, "POST");

    private static Task MethodNotAllowed(HttpContext context, string allow)
    {
        context.Response.Headers.Allow = allow;
        return ApiResponses.Error(context, StatusCodes.Status405MethodNotAllowed, "method-not-allowed", $"use {allow}");
    }

    private Task? Limited(HttpContext context) =>
        _clientRequests.TryAcquire(context.Connection.RemoteIpAddress, out double retry) ? null : ApiResponses.TooMany(context, retry, "too many requests from this client");

}
