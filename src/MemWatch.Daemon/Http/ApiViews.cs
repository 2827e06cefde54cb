using MemWatch.Daemon.Attribution;
using MemWatch.Daemon.Configuration;
using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
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
/// What the daemon shows: /metrics, /healthz, /readyz, the target list, one target's detail (a full smaps read at
/// most every 10 s per target, two at a time) and its latest attribution. Reads only; who may read is the routes' job.
/// </summary>
internal sealed partial class ApiViews
{
    /// <summary>A full smaps read holds the target's mmap lock: one per target per this many milliseconds, whoever asks.</summary>
    internal const long DetailCacheMilliseconds = 10_000;

    private readonly TargetRegistry _registry;
    private readonly DaemonHealth _health;
    private readonly MetricsRenderer _metrics;
    private readonly DaemonSettings _settings;
    private readonly AttributionService _attribution;
    private readonly ProcFileSystem _fs;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (ulong StartTime, long AtMs, ProcessSnapshot Snapshot)> _details = new();
    private readonly SemaphoreSlim _inspections = new(2, 2);
    private byte[]? _metricsBuffer;

    public ApiViews(TargetRegistry registry, DaemonHealth health, MetricsRenderer metrics, DaemonSettings settings, AttributionService attribution, ProcFileSystem fs, TimeProvider time, ILogger log)
    {
        _fs = fs;
        _registry = registry;
        _health = health;
        _metrics = metrics;
        _settings = settings;
        _attribution = attribution;
        _time = time;
        _log = log;
    }

    public async Task Metrics(HttpContext context)
    {
        ExpositionFormat format = ExpositionNegotiation.Choose(context.Request.Headers.Accept.ToString());
        // One buffer, kept from scrape to scrape (a concurrent scrape makes its own): about 600 KB for 300 targets.
        var writer = new ExpositionWriter(format, Interlocked.Exchange(ref _metricsBuffer, null) ?? new byte[64 * 1024]);
        _metrics.Render(writer);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = ExpositionNegotiation.ContentType(format);
        context.Response.ContentLength = writer.Written.Length;
        _log.MetricsServed(format.ToString(), writer.Written.Length, ApiResponses.ClientKey(context));
        await context.Response.Body.WriteAsync(writer.Written, context.RequestAborted);

        // Kestrel has copied the body into its own buffers by now.
        Interlocked.CompareExchange(ref _metricsBuffer, writer.Buffer, null);
    }

    public Task Healthz(HttpContext context)
    {
        // Alive unless the sampler has stalled: no tick for ten intervals plus a minute after the first one.
        long last = _health.LastSampleUnixMilliseconds;
        double stalledAfter = _settings.Sampling.Interval.TotalMilliseconds * 10 + 60_000;
        bool stalled = last > 0 && _time.GetUtcNow().ToUnixTimeMilliseconds() - last > stalledAfter;
        var body = new HealthResponse(stalled ? "stalled" : "ok", _registry.Count, LastSample(), stalled ? "the sampler has not completed a tick recently" : null);
        return ApiResponses.Json(context, stalled ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK, body, ApiJsonContext.Default.HealthResponse);
    }

    public Task Readyz(HttpContext context)
    {
        bool ready = _registry.FirstTick.IsCompleted;
        var body = new HealthResponse(ready ? "ready" : "starting", _registry.Count, LastSample(), ready ? null : "the first sampling tick has not completed");
        return ApiResponses.Json(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, body, ApiJsonContext.Default.HealthResponse);
    }

    private DateTimeOffset? LastSample() =>
        _health.LastSampleUnixMilliseconds is > 0 and var ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    public Task Targets(HttpContext context)
    {
        List<TargetSummary> list = _registry.Snapshot().Select(Summarize).ToList();
        return ApiResponses.Json(context, StatusCodes.Status200OK, list, ApiJsonContext.Default.ListTargetSummary);
    }

    public async Task Detail(HttpContext context, string pidText, bool showCommandLine)
    {
        if (!ApiResponses.TryTarget(context, _registry, pidText, out TargetState? target, out Task? error))
        {
            await error;
            return;
        }

        bool cached = _details.TryGetValue(target.Pid, out var entry) && entry.StartTime == target.StartTimeTicks
            && NowMs() - entry.AtMs < DetailCacheMilliseconds;
        if (!cached && !await _inspections.WaitAsync(0))
        {
            await ApiResponses.TooMany(context, 1, "other inspections are running; retry shortly");
            return;
        }

        try
        {
            // A full snapshot at most every 10 s per target: smaps is read off the sampler thread, with a reader of its own.
            ProcessSnapshot? snapshot = cached ? entry.Snapshot : await Task.Run(() =>
                new ProcessSnapshotReader(_fs, new CgroupMemoryReader(new CgroupResolver(_fs, hostRoot: _settings.Sampling.HostCgroupRoot))).TryCapture(target.Pid, SnapshotDepth.Full, out ProcessSnapshot? s) ? s : null);
            if (!cached && snapshot is not null)
            {
                RememberDetail(target.Pid, snapshot);
            }

            if (snapshot is null || snapshot.Stat.StartTimeTicks != target.StartTimeTicks)
            {
                await ApiResponses.Error(context, StatusCodes.Status404NotFound, "not-found", $"process {target.Pid} exited");
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

            await ApiResponses.Json(context, StatusCodes.Status200OK, detail, ApiJsonContext.Default.TargetDetail);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or ProcParseException or IOException)
        {
            await ApiResponses.Error(context, StatusCodes.Status409Conflict, "unreadable", $"process {target.Pid} cannot be read now: {e.Message}");
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
        long now = NowMs();
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

    public Task LatestAttribution(HttpContext context, string pidText)
    {
        if (!ApiResponses.TryTarget(context, _registry, pidText, out TargetState? target, out Task? error))
        {
            return error;
        }

        return _attribution.TryGetLatest(target.Pid, out AttributionRecord? record) && record is not null
            ? ApiResponses.Json(context, StatusCodes.Status200OK, record, ApiJsonContext.Default.AttributionRecord)
            : ApiResponses.Error(context, StatusCodes.Status404NotFound, "no-attribution", $"no attribution of process {target.Pid} yet: POST /api/targets/{target.Pid}/attribute");
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

    private long NowMs() => TokenBucket.NowMs(_time);
}
