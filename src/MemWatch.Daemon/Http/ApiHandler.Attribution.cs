using System.Globalization;
using MemWatch.Daemon.Attribution;
using MemWatch.Daemon.Sampling;
using MemWatch.Probes.Attribution;
using Microsoft.AspNetCore.Http;

namespace MemWatch.Daemon.Http;

/// <summary>
/// <c>POST /api/targets/{pid}/attribute[?seconds=N]</c> (token, a rule with Attribution.Enabled, one capture at a time:
/// 409 while another runs, 503 when perf events are refused, with what is missing) answers when the capture ends;
/// <c>GET /api/targets/{pid}/attribution</c> gives the latest one, automatic or requested (404 when there is none).
/// </summary>
public sealed partial class ApiHandler
{
    private const double MaxAttributionSeconds = 120;

    private async Task AttributeAsync(HttpContext context, TargetState target, string who)
    {
        if (!target.Rule.Attribution.Enabled)
        {
            await Error(context, StatusCodes.Status403Forbidden, "not-allowed",
                $"process {target.Pid} is watched under rule '{target.Rule.Name}', which does not set Attribution.Enabled");
            return;
        }

        double seconds = target.Rule.Attribution.Seconds;
        string? text = context.Request.Query["seconds"];
        if (text is not null && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds < 1 || seconds > MaxAttributionSeconds))
        {
            await Error(context, StatusCodes.Status400BadRequest, "bad-seconds", $"seconds must be a number from 1 to {MaxAttributionSeconds}");
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
            await Error(context, StatusCodes.Status503ServiceUnavailable, "attribution-unavailable", e.Message);
            return;
        }

        if (record is null)
        {
            await Error(context, StatusCodes.Status409Conflict, "busy", "another attribution capture is running (one at a time), or the process exited");
            return;
        }

        await Json(context, StatusCodes.Status200OK, record, ApiJsonContext.Default.AttributionRecord);
    }

    private Task LatestAttribution(HttpContext context, string pidText)
    {
        if (!TryTarget(context, pidText, out TargetState? target, out Task? error))
        {
            return error;
        }

        return _attribution.TryGetLatest(target.Pid, out AttributionRecord? record) && record is not null
            ? Json(context, StatusCodes.Status200OK, record, ApiJsonContext.Default.AttributionRecord)
            : Error(context, StatusCodes.Status404NotFound, "no-attribution", $"no attribution of process {target.Pid} yet: POST /api/targets/{target.Pid}/attribute");
    }
}
