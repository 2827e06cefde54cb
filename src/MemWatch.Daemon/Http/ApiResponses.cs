using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MemWatch.Daemon.Sampling;
using Microsoft.AspNetCore.Http;

namespace MemWatch.Daemon.Http;

/// <summary>How the API answers, shared by its routes, views and actions: JSON, problem details, 429 with Retry-After, the target a PID names.</summary>
internal static class ApiResponses
{
    public static bool TryTarget(HttpContext context, TargetRegistry registry, string pidText, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TargetState? target, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out Task? error)
    {
        target = null;
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
        {
            error = Error(context, StatusCodes.Status400BadRequest, "bad-pid", $"'{Truncate(pidText)}' is not a process id (a positive integer)");
            return false;
        }

        if (!registry.TryGet(pid, out target))
        {
            error = Error(context, StatusCodes.Status404NotFound, "not-a-target", $"process {pid} is not watched (it does not exist, exited, or matches no Targets rule)");
            return false;
        }

        error = null;
        return true;
    }

    public static string ClientKey(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static Task TooMany(HttpContext context, double retryAfterSeconds, string detail)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfterSeconds)).ToString(CultureInfo.InvariantCulture);
        return Error(context, StatusCodes.Status429TooManyRequests, "rate-limited", detail);
    }

    public static Task Error(HttpContext context, int status, string error, string detail) => Problems.Write(context, status, error, detail);

    public static async Task Json<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
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

    public static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
