using System.Net;

namespace MemWatch.Daemon.Configuration;

/// <summary>The configuration after validation: parsed endpoint, compiled rules, the token loaded.</summary>
internal sealed class DaemonSettings
{
    public required IPEndPoint Listen { get; init; }

    public required string StateDirectory { get; init; }

    /// <summary>The bearer token bytes; null when no token file is configured (control actions disabled).</summary>
    public required byte[]? Token { get; init; }

    /// <summary>GET /api routes answer without the token (Auth.AnonymousReads).</summary>
    public bool AnonymousReads { get; init; }

    /// <summary>Anonymous readers also see command lines (Auth.AnonymousCommandLines).</summary>
    public bool AnonymousCommandLines { get; init; }

    /// <summary>The listener's certificate with its key, when Tls is configured; null for plain HTTP.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; init; }

    /// <summary>The options as bound, for <c>memwatch run --check-config</c>.</summary>
    public DaemonOptions? Options { get; init; }

    public required SamplingOptions Sampling { get; init; }

    public required IReadOnlyList<TargetRule> Rules { get; init; }

    public required LoggingOptions Logging { get; init; }

    public KubernetesOptions Kubernetes { get; init; } = new();

    /// <summary>Non-fatal observations made while loading (e.g. AllowActions without a token file), logged at start.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
