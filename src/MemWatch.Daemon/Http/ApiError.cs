namespace MemWatch.Daemon.Http;

/// <summary>
/// The body of every API error: an RFC 9457 problem details document (<c>application/problem+json</c>) with
/// <c>type</c> <c>urn:memwatch:problem:CODE</c>, the status's <c>title</c>, <c>status</c> and one sentence of
/// <c>detail</c>, plus the extension member <c>error</c>: the same stable kebab-case CODE.
/// </summary>
internal sealed record ApiError(string Type, string Title, int Status, string Detail, string Error)
{
    public static ApiError Of(int status, string error, string detail) =>
        new($"urn:memwatch:problem:{error}", Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), status, detail, error);
}
