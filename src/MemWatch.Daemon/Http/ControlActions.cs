using System.Globalization;
using MemWatch.Daemon.Attribution;
using MemWatch.Daemon.Metrics;
using MemWatch.Daemon.Remediation;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Attribution;
using MemWatch.Probes.DotNet;
using Microsoft.AspNetCore.Http;

namespace MemWatch.Daemon.Http;

/// <summary>
/// The API's control actions, POST /api/targets/{pid}/trim, /gc and /attribute: the token, the client's action rate,
/// the PID, the rule's AllowActions (Attribution.Enabled for attribute), for gc a .NET runtime, the target's rate, and a
/// concurrent action, in that order; then the action, on a thread of its own.
/// </summary>
internal sealed class ControlActions
{
    private const double MaxAttributionSeconds = 120;

    private readonly TargetRegistry _registry;
    private readonly AllocatorActions _actions;
    private readonly DotNetActions _dotnet;
    private readonly AuthGate _auth;
    private readonly AttributionService _attribution;
    private readonly ClientLimiter _clientActions;
    private readonly RateLimiter _targetActions;

    public ControlActions(TargetRegistry registry, AllocatorActions actions, DotNetActions dotnet, AuthGate auth, AttributionService attribution, TimeProvider time)
    {
        _registry = registry;
        _actions = actions;
        _dotnet = dotnet;
        _auth = auth;
        _attribution = attribution;
        _clientActions = new ClientLimiter(perSecond: 1, burst: 10, time);
        _targetActions = new RateLimiter(perSecond: 0.1, burst: 1, time);
    }

    public async Task ControlAsync(HttpContext context, string pidText, string action)
    {
        if (_auth.Check(context, read: false, action, out _) is { } refused)
        {
            await refused;
            return;
        }

        if (!_clientActions.TryAcquire(context.Connection.RemoteIpAddress, out double clientRetry))
        {
            await ApiResponses.TooMany(context, clientRetry, "too many control actions from this client");
            return;
        }

        if (!ApiResponses.TryTarget(context, _registry, pidText, out TargetState? target, out Task? error))
        {
            await error;
            return;
        }

        if (action == "attribute")
        {
            // Reads no target memory and calls nothing in it: the rule's Attribution.Enabled governs, not AllowActions.
            await AttributeAsync(context, target, $"api:{ApiResponses.ClientKey(context)}");
            return;
        }

        if (!target.Rule.AllowActions)
        {
            await ApiResponses.Error(context, StatusCodes.Status403Forbidden, "not-allowed",
                $"process {target.Pid} is watched under rule '{target.Rule.Name}', which does not set AllowActions");
            return;
        }

        if (action == "gc" && !IsDotNet(target))
        {
            // Checked before the target's rate: a mistaken request must not hold back a real action.
            await ApiResponses.Error(context, StatusCodes.Status422UnprocessableEntity, "not-dotnet",
                $"process {target.Pid} is not a .NET process (no diagnostic socket; or it runs with DOTNET_EnableDiagnostics=0): use trim for native allocators");
            return;
        }

        if (!_targetActions.TryAcquire(target.Pid.ToString(CultureInfo.InvariantCulture), out double targetRetry))
        {
            await ApiResponses.TooMany(context, targetRetry, $"process {target.Pid} was acted on moments ago");
            return;
        }

        string who = $"api:{ApiResponses.ClientKey(context)}";
        if (action == "gc")
        {
            await GcAsync(context, target, who);
            return;
        }

        TrimOutcome outcome = await Task.Factory.StartNew(
            () => _actions.Trim(target, TrimTrigger.Api, who, wait: AllocatorActions.StatisticsTimeout + TimeSpan.FromSeconds(2)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (outcome.Busy)
        {
            await ApiResponses.Error(context, StatusCodes.Status409Conflict, "busy", $"another action on process {target.Pid} is in progress");
            return;
        }

        if (!outcome.Attempted || outcome.Result == RemediationResult.Refused)
        {
            await ApiResponses.Error(context, StatusCodes.Status409Conflict, "refused", $"{outcome.Outcome}: {outcome.Message}");
            return;
        }

        long? released = outcome.RssBeforeBytes is { } b && outcome.RssAfterBytes is { } a ? (long)b - (long)a : null;
        var body = new TrimResponse(outcome.Pid, outcome.Comm, DaemonHealth.ResultNames[(int)outcome.Result], outcome.Outcome, outcome.Message,
            outcome.RssBeforeBytes, outcome.RssAfterBytes, released, outcome.PauseMicroseconds, outcome.At);
        await ApiResponses.Json(context, outcome.Result == RemediationResult.Failed ? StatusCodes.Status502BadGateway : StatusCodes.Status200OK, body, ApiJsonContext.Default.TrimResponse);
    }

    private bool IsDotNet(TargetState target)
    {
        try
        {
            return _dotnet.FindEndpoint(target) is not null;
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
            await ApiResponses.Error(context, StatusCodes.Status409Conflict, "busy", $"another action on process {target.Pid} is in progress");
            return;
        }

        if (outcome.NotDotNet)
        {
            await ApiResponses.Error(context, StatusCodes.Status422UnprocessableEntity, "not-dotnet", outcome.Message);
            return;
        }

        if (!outcome.Attempted || outcome.Result == RemediationResult.Refused)
        {
            await ApiResponses.Error(context, StatusCodes.Status409Conflict, "refused", $"{outcome.Outcome}: {outcome.Message}");
            return;
        }

        GcTriggerResult? gc = outcome.Gc;
        var body = new GcResponse(outcome.Pid, outcome.Comm, DaemonHealth.ResultNames[(int)outcome.Result], outcome.Outcome, outcome.Message,
            gc?.HeapBeforeBytes, gc?.HeapAfterBytes, gc?.ReclaimedBytes, gc?.CommittedBeforeBytes, gc?.CommittedAfterBytes,
            outcome.RssBeforeBytes, outcome.RssAfterBytes, gc?.GcObserved ?? false, gc?.PauseDuration?.TotalMilliseconds,
            gc?.Duration.TotalMilliseconds, outcome.At);
        await ApiResponses.Json(context, outcome.Result == RemediationResult.Failed ? StatusCodes.Status502BadGateway : StatusCodes.Status200OK, body, ApiJsonContext.Default.GcResponse);
    }

    private async Task AttributeAsync(HttpContext context, TargetState target, string who)
    {
        if (!target.Rule.Attribution.Enabled)
        {
            await ApiResponses.Error(context, StatusCodes.Status403Forbidden, "not-allowed",
                $"process {target.Pid} is watched under rule '{target.Rule.Name}', which does not set Attribution.Enabled");
            return;
        }

        double seconds = target.Rule.Attribution.Seconds;
        string? text = context.Request.Query["seconds"];
        if (text is not null && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds < 1 || seconds > MaxAttributionSeconds))
        {
            await ApiResponses.Error(context, StatusCodes.Status400BadRequest, "bad-seconds", $"seconds must be a number from 1 to {MaxAttributionSeconds}");
            return;
        }

        AttributionRecord? record;
        try
        {
            record = await Task.Factory.StartNew(
                () => _attribution.Capture(target, seconds, who, context.RequestAborted), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (PerfAccessException e)
        {
            await ApiResponses.Error(context, StatusCodes.Status503ServiceUnavailable, "attribution-unavailable", e.Message);
            return;
        }

        if (record is null)
        {
            await ApiResponses.Error(context, StatusCodes.Status409Conflict, "busy", "another attribution capture is running (one at a time), or the process exited");
            return;
        }

        await ApiResponses.Json(context, StatusCodes.Status200OK, record, ApiJsonContext.Default.AttributionRecord);
    }
}
