using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace MemWatch.Daemon.Http;

/// <summary>Writes <see cref="ApiError"/> as <c>application/problem+json</c> (RFC 9457).</summary>
internal static class Problems
{
    public const string ContentType = "application/problem+json";

    public static async Task Write(HttpContext context, int status, string error, string detail)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        context.Response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await JsonSerializer.SerializeAsync(context.Response.Body, ApiError.Of(status, error, detail), ApiJsonContext.Default.ApiError, context.RequestAborted);
    }
}
