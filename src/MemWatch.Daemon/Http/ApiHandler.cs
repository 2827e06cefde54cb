using MemWatch.Daemon.Attribution;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MemWatch.Daemon.Analysis;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Remediation;
using MemWatch.Daemon.Reports;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Snapshots;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Http;

/// <summary>
/// Every HTTP route of the daemon, dispatched by hand (no MVC, no reflection): /metrics, /healthz, /readyz,
/// /api/targets[/{pid}[/trim|/gc|/attribute|/attribution]]. Errors are RFC 9457 problem details (<see cref="Problems"/>);
/// nothing ever answers with a stack trace.
/// </summary>
/// <remarks>
/// /api routes check, in order: a body (413: no route takes one), the client's rate (429), the token (<see cref="AuthGate"/>:
/// 403 when none is configured, 429 after too many wrong ones, 401); actions then the PID (400, 404), the rule's
/// AllowActions (403), for gc a .NET runtime (422), the target's rate (429), a concurrent action (409).
/// </remarks>
public sealed partial class ApiHandler
{
    public const long MaxRequestBodyBytes = 4096;

    /// <summary>A full smaps read holds the target's mmap lock: one per target per this many milliseconds, whoever asks.</summary>
    private const long DetailCacheMilliseconds = 10_000;

    private readonly TargetRegistry _registry;
    private readonly DaemonHealth _health;
    private readonly MetricsRenderer _metrics;
    private readonly AllocatorActions _actions;
    private readonly DotNetActions _dotnet;
    private readonly AuthGate _auth;
    private readonly DaemonSettings _settings;
    private readonly AttributionService _attribution;
    private readonly ILogger _log;
    private readonly ClientLimiter _clientRequests = new(perSecond: 20, burst: 40);
    private readonly ClientLimiter _clientActions = new(perSecond: 1, burst: 10);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (ulong StartTime, long AtMs, ProcessSnapshot Snapshot)> _details = new();
    private readonly RateLimiter _targetActions = new(perSecond: 0.1, burst: 1);
    private readonly SemaphoreSlim _inspections = new(2, 2);
    private byte[]? _metricsBuffer;

    public ApiHandler(
        TargetRegistry registry,
        DaemonHealth health,
        MetricsRenderer metrics,
        AllocatorActions actions,
        DotNetActions dotnet,
        AuthGate auth,
        DaemonSettings settings,
        AttributionService attribution,
        ILogger<ApiHandler> log)
    {
        _attribution = attribution;
        _registry = registry;
        _health = health;
        _metrics = metrics;
        _actions = actions;
        _dotnet = dotnet;
        _auth = auth;
        _settings = settings;
        _log = log;
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
            LogUnhandled(context.Request.Method, context.Request.Path.Value ?? "", e);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await Error(context, StatusCodes.Status500InternalServerError, "internal", "the daemon failed to answer this request; see its log");
            }
        }
    }

    private async Task DispatchAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (request.ContentLength is > MaxRequestBodyBytes || (request.ContentLength is null && !await BodyWithinLimit(context)))
        {
            // A chunked body has no Content-Length: it is read (up to the limit) before anything runs.
            await Error(context, StatusCodes.Status413PayloadTooLarge, "body-too-large", $"request bodies are limited to {MaxRequestBodyBytes} bytes; no route takes a body");
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
                return Get(context) ?? Metrics(context);
            case "/healthz":
                return Get(context) ?? Healthz(context);
            case "/readyz":
                return Get(context) ?? Readyz(context);
            case "/api/targets":
                return Get(context) ?? Limited(context) ?? _auth.Check(context, read: true, "read", out bool _) ?? Targets(context);
        }

        const string prefix = "/api/targets/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return Error(context, StatusCodes.Status404NotFound, "not-found", $"no route {Truncate(path)}; see /api/targets, /metrics, /healthz, /readyz");
        }

        string rest = path[prefix.Length..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string pidText = slash < 0 ? rest : rest[..slash];
        string action = slash < 0 ? "" : rest[(slash + 1)..];
        switch (action)
        {
            case "":
                return Get(context) ?? Limited(context) ?? _auth.Check(context, read: true, "read", out bool authenticated)
                    ?? Detail(context, pidText, showCommandLine: authenticated || _settings.AnonymousCommandLines);
            case "trim":
            case "gc":
            case "attribute":
                return Post(context) ?? ControlAsync(context, pidText, action);
            case "attribution":
                return Get(context) ?? Limited(context) ?? LatestAttribution(context, pidText);
            default:
                return Error(context, StatusCodes.Status404NotFound, "not-found", $"no action '{Truncate(action)}'; the actions are trim, gc and attribute");
        }
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
        return Error(context, StatusCodes.Status405MethodNotAllowed, "method-not-allowed", $"use {allow}");
    }

    private Task? Limited(HttpContext context) =>
        _clientRequests.TryAcquire(context.Connection.RemoteIpAddress, out double retry) ? null : TooMany(context, retry, "too many requests from this client");

    private async Task Metrics(HttpContext context)
    {
        ExpositionFormat format = ExpositionNegotiation.Choose(context.Request.Headers.Accept.ToString());
        // One buffer, kept from scrape to scrape (a concurrent scrape makes its own): about 600 KB for 300 targets.
        var writer = new ExpositionWriter(format, Interlocked.Exchange(ref _metricsBuffer, null) ?? new byte[64 * 1024]);
        _metrics.Render(writer);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = ExpositionNegotiation.ContentType(format);
        context.Response.ContentLength = writer.Written.Length;
        LogScrape(format, writer.Written.Length, ClientKey(context));
        await context.Response.Body.WriteAsync(writer.Written, context.RequestAborted);

        // Kestrel has copied the body into its own buffers by now.
        Interlocked.CompareExchange(ref _metricsBuffer, writer.Buffer, null);
    }

    private Task Healthz(HttpContext context)
    {
        // Alive unless the sampler has stalled: no tick for ten intervals plus a minute after the first one.
        long last = _health.LastSampleUnixMilliseconds;
        double stalledAfter = _settings.Sampling.Interval.TotalMilliseconds * 10 + 60_000;
        bool stalled = last > 0 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - last > stalledAfter;
        var body = new HealthResponse(stalled ? "stalled" : "ok", _registry.Count, LastSample(), stalled ? "the sampler has not completed a tick recently" : null);
        return Json(context, stalled ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK, body, ApiJsonContext.Default.HealthResponse);
    }

    private Task Readyz(HttpContext context)
    {
        bool ready = _registry.FirstTick.IsCompleted;
        var body = new HealthResponse(ready ? "ready" : "starting", _registry.Count, LastSample(), ready ? null : "the first sampling tick has not completed");
        return Json(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, body, ApiJsonContext.Default.HealthResponse);
    }

    private DateTimeOffset? LastSample() =>
        _health.LastSampleUnixMilliseconds is > 0 and var ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private Task Targets(HttpContext context)
    {
        List<TargetSummary> list = _registry.Snapshot().Select(Summarize).ToList();
        return Json(context, StatusCodes.Status200OK, list, ApiJsonContext.Default.ListTargetSummary);
    }

    private async Task Detail(HttpContext context, string pidText, bool showCommandLine)
    {
        if (!TryTarget(context, pidText, out TargetState? target, out Task? error))
        {
            await error;
            return;
        }

        bool cached = _details.TryGetValue(target.Pid, out var entry) && entry.StartTime == target.StartTimeTicks
            && Environment.TickCount64 - entry.AtMs < DetailCacheMilliseconds;
        if (!cached && !await _inspections.WaitAsync(0))
        {
            await TooMany(context, 1, "other inspections are running; retry shortly");
            return;
        }

        try
        {
            // A full snapshot at most every 10 s per target: smaps is read off the sampler thread, with a reader of its own.
            ProcessSnapshot? snapshot = cached ? entry.Snapshot : await Task.Run(() =>
                new ProcessSnapshotReader(ProcFileSystem.Default, new CgroupMemoryReader(new CgroupResolver(ProcFileSystem.Default, hostRoot: _settings.Sampling.HostCgroupRoot))).TryCapture(target.Pid, SnapshotDepth.Full, out ProcessSnapshot? s) ? s : null);
            if (!cached && snapshot is not null)
            {
                RememberDetail(target.Pid, snapshot);
            }

            if (snapshot is null || snapshot.Stat.StartTimeTicks != target.StartTimeTicks)
            {
                await Error(context, StatusCodes.Status404NotFound, "not-found", $"process {target.Pid} exited");
                return;
            }

            TargetDetail detail;
            DotNetReading? dotnet;
            lock (target.Sync)
            {
                detail = new TargetDetail(Summarize(target), InspectReportBuilder.Build(snapshot, target.Window, target.Analysis?.Growth));
                dotnet = target.DotNet;
            }

            if (dotnet is not null && snapshot.Layout is { } layout)
            {
                // The last counter read, split against this fresh layout: an unauthenticated GET never opens a session in the target.
                detail = detail with
                {
                    Report = detail.Report with { Dotnet = DotNetReportBuilder.Build(dotnet.Endpoint, dotnet.Figures, DotNetMemorySplit.From(dotnet.Figures, layout)) },
                };
            }

            if (!showCommandLine)
            {
                // Arguments can carry secrets: anonymous readers get the name only (Auth.AnonymousCommandLines).
                detail = detail with { Report = detail.Report with { CommandLine = "" } };
            }

            await Json(context, StatusCodes.Status200OK, detail, ApiJsonContext.Default.TargetDetail);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or ProcParseException or IOException)
        {
            await Error(context, StatusCodes.Status409Conflict, "unreadable", $"process {target.Pid} cannot be read now: {e.Message}");
        }
        finally
        {
            if (!cached)
            {
                _inspections.Release();
            }
        }
    }

    private void RememberDetail(int pid, ProcessSnapshot snapshot)
    {
        long now = Environment.TickCount64;
        if (_details.Count >= 64)
        {
            foreach ((int key, var value) in _details)
            {
                if (now - value.AtMs >= DetailCacheMilliseconds)
                {
                    _details.TryRemove(key, out _);
                }
            }
        }

        _details[pid] = (snapshot.Stat.StartTimeTicks, now, snapshot);
    }

    private async Task ControlAsync(HttpContext context, string pidText, string action)
    {
        if (_auth.Check(context, read: false, action, out _) is { } refused)
        {
            await refused;
            return;
        }

        if (!_clientActions.TryAcquire(context.Connection.RemoteIpAddress, out double clientRetry))
        {
            await TooMany(context, clientRetry, "too many control actions from this client");
            return;
        }

        if (!TryTarget(context, pidText, out TargetState? target, out Task? error))
        {
            await error;
            return;
        }

        if (action == "attribute")
        {
            // Reads no target memory and calls nothing in it: the rule's Attribution.Enabled governs, not AllowActions.
            await AttributeAsync(context, target, $"api:{ClientKey(context)}");
            return;
        }

        if (!target.Rule.AllowActions)
        {
            await Error(context, StatusCodes.Status403Forbidden, "not-allowed",
                $"process {target.Pid} is watched under rule '{target.Rule.Name}', which does not set AllowActions");
            return;
        }

        if (action == "gc" && !IsDotNet(target))
        {
            // Checked before the target's rate: a mistaken request must not hold back a real action.
            await Error(context, StatusCodes.Status422UnprocessableEntity, "not-dotnet",
                $"process {target.Pid} is not a .NET process (no diagnostic socket; or it runs with DOTNET_EnableDiagnostics=0): use trim for native allocators");
            return;
        }

        if (!_targetActions.TryAcquire(target.Pid.ToString(CultureInfo.InvariantCulture), out double targetRetry))
        {
            await TooMany(context, targetRetry, $"process {target.Pid} was acted on moments ago");
            return;
        }

        string who = $"api:{ClientKey(context)}";
        if (action == "gc")
        {
            await GcAsync(context, target, who);
            return;
        }

        TrimOutcome outcome = await Task.Factory.StartNew(
            () => _actions.Trim(target, TrimTrigger.Api, who, wait: AllocatorActions.StatisticsTimeout + TimeSpan.FromSeconds(2)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (outcome.Busy)
        {
            await Error(context, StatusCodes.Status409Conflict, "busy", $"another action on process {target.Pid} is in progress");
            return;
        }

        if (!outcome.Attempted || outcome.Result == RemediationResult.Refused)
        {
            await Error(context, StatusCodes.Status409Conflict, "refused", $"{outcome.Outcome}: {outcome.Message}");
            return;
        }

        long? released = outcome.RssBeforeBytes is { } b && outcome.RssAfterBytes is { } a ? (long)b - (long)a : null;
        var body = new TrimResponse(outcome.Pid, outcome.Comm, DaemonHealth.ResultNames[(int)outcome.Result], outcome.Outcome, outcome.Message,
            outcome.RssBeforeBytes, outcome.RssAfterBytes, released, outcome.PauseMicroseconds, outcome.At);
        await Json(context, outcome.Result == RemediationResult.Failed ? StatusCodes.Status502BadGateway : StatusCodes.Status200OK, body, ApiJsonContext.Default.TrimResponse);
    }

    private static bool IsDotNet(TargetState target)
    {
        try
        {
            return DotNetActions.FindEndpoint(target) is not null;
        }
        catch (UnauthorizedAccessException)
        {
            // Unknown: let the action try and report the refusal.
            return true;
        }
    }

    private async Task GcAsync(HttpContext context, TargetState target, string who)
    {
        GcOutcome outcome = await Task.Factory.StartNew(
            () => _dotnet.Gc(target, who, wait: AllocatorActions.StatisticsTimeout + TimeSpan.FromSeconds(2)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (outcome.Busy)
        {
            await Error(context, StatusCodes.Status409Conflict, "busy", $"another action on process {target.Pid} is in progress");
            return;
        }

        if (outcome.NotDotNet)
        {
            await Error(context, StatusCodes.Status422UnprocessableEntity, "not-dotnet", outcome.Message);
            return;
        }

        if (!outcome.Attempted || outcome.Result == RemediationResult.Refused)
        {
            await Error(context, StatusCodes.Status409Conflict, "refused", $"{outcome.Outcome}: {outcome.Message}");
            return;
        }

        GcTriggerResult? gc = outcome.Gc;
        var body = new GcResponse(outcome.Pid, outcome.Comm, DaemonHealth.ResultNames[(int)outcome.Result], outcome.Outcome, outcome.Message,
            gc?.HeapBeforeBytes, gc?.HeapAfterBytes, gc?.ReclaimedBytes, gc?.CommittedBeforeBytes, gc?.CommittedAfterBytes,
            outcome.RssBeforeBytes, outcome.RssAfterBytes, gc?.GcObserved ?? false, gc?.PauseDuration?.TotalMilliseconds,
            gc?.Duration.TotalMilliseconds, outcome.At);
        await Json(context, outcome.Result == RemediationResult.Failed ? StatusCodes.Status502BadGateway : StatusCodes.Status200OK, body, ApiJsonContext.Default.GcResponse);
    }

    private bool TryTarget(HttpContext context, string pidText, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TargetState? target, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out Task? error)
    {
        target = null;
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
        {
            error = Error(context, StatusCodes.Status400BadRequest, "bad-pid", $"'{Truncate(pidText)}' is not a process id (a positive integer)");
            return false;
        }

        if (!_registry.TryGet(pid, out target))
        {
            error = Error(context, StatusCodes.Status404NotFound, "not-a-target", $"process {pid} is not watched (it does not exist, exited, or matches no Targets rule)");
            return false;
        }

        error = null;
        return true;
    }

    internal static TargetSummary Summarize(TargetState t)
    {
        lock (t.Sync)
        {
            ProcessCounters c = t.Counters;
            return new TargetSummary
            {
                Pid = t.Pid,
                Comm = t.Comm,
                Rule = t.Rule.Name,
                Unit = t.Identity.Unit,
                ContainerId = t.Identity.ContainerId,
                CgroupPath = t.Identity.CgroupPath,
                Introspect = t.Introspected,
                AllowActions = t.Rule.AllowActions,
                TrimPolicy = t.Rule.PolicyTrimEnabled,
                SampledAt = DateTimeOffset.FromUnixTimeMilliseconds(c.UnixMilliseconds),
                RssBytes = c.RssBytes,
                PssBytes = t.PssBytes,
                AnonBytes = c.AnonBytes,
                FileBytes = c.FileBytes,
                ShmemBytes = c.ShmemBytes,
                SwapBytes = c.SwapBytes,
                RssHighWaterBytes = c.RssHighWaterBytes,
                Samples = t.Window.Count,
                GrowthBytesPerSecond = t.Analysis?.GrowthBytesPerSecond is { } g && double.IsFinite(g) ? g : null,
                Forecast = t.Analysis?.Forecast.Outcome.ToString(),
                SecondsToLimit = t.Analysis?.Forecast.SecondsToLimit,
                ForecastReason = t.Analysis?.Forecast.Reason,
                CgroupLimitBytes = t.Cgroup?.EffectiveLimitBytes,
                CgroupUsageBytes = t.Cgroup?.UsageBytes,
                Allocator = t.Allocator?.Allocator ?? t.Layout?.Allocator,
                GlibcArenas = t.Layout is { Allocator: "glibc" } l ? l.Arenas : null,
                AllocatorInUseBytes = t.Allocator?.InUseBytes,
                AllocatorFreeBytes = t.Allocator?.FreeBytes,
                AllocatorReleasableBytes = t.Allocator?.ReleasableBytes,
                Verdict = t.Analysis?.Verdict is { } v ? VerdictReportBuilder.Build(v) : null,
                VerdictConfidence = t.Analysis?.Verdict?.Confidence,
                DotnetGcHeapBytes = t.DotNet?.Figures.GcHeapBytes,
                DotnetGcCommittedBytes = t.DotNet?.Figures.GcCommittedBytes,
                DotnetReadAt = t.DotNet is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d.UnixMilliseconds) : null,
                LastTrimAt = t.LastTrimUnixMilliseconds > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(t.LastTrimUnixMilliseconds) : null,
                Quarantine = t.Quarantine,
            };
        }
    }

    private static string ClientKey(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static Task TooMany(HttpContext context, double retryAfterSeconds, string detail)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfterSeconds)).ToString(CultureInfo.InvariantCulture);
        return Error(context, StatusCodes.Status429TooManyRequests, "rate-limited", detail);
    }

    private static Task Error(HttpContext context, int status, string error, string detail) => Problems.Write(context, status, error, detail);

    private static async Task Json<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await JsonSerializer.SerializeAsync(context.Response.Body, value, type, context.RequestAborted);
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private partial void LogUnhandled(string method, string path, Exception e);

    [LoggerMessage(Level = LogLevel.Debug, Message = "served /metrics as {Format} ({Bytes} bytes) to {Client}")]
    private partial void LogScrape(ExpositionFormat format, int bytes, string client);

}
