namespace MemWatch.Daemon.Configuration;

internal sealed class AuthOptions
{
    /// <summary>
    /// A file holding the bearer token for the API: every /api route needs it (reads too, unless
    /// <see cref="AnonymousReads"/>); null disables the control actions and, without AnonymousReads, the /api reads.
    /// </summary>
    public string? TokenFile { get; set; }

    /// <summary>GET /api routes answer without a token, read-only, with command lines withheld (unless
    /// <see cref="AnonymousCommandLines"/>). /metrics, /healthz and /readyz never need the token. Default false.</summary>
    public bool AnonymousReads { get; set; }

    /// <summary>With <see cref="AnonymousReads"/>, anonymous readers also get full command lines (which may carry
    /// secrets passed as arguments). Default false.</summary>
    public bool AnonymousCommandLines { get; set; }
}
