using System.Net;

namespace MemWatch.Daemon.Configuration;

/// <summary>The configuration after validation: parsed endpoint, compiled rules, the token loaded.</summary>
public sealed class DaemonSettings
{
    public required IPEndPoint Listen { get; init; }

    public required string StateDirectory { get; init; }

    /// <summary>The bearer token bytes; null when no token file is configured (control actions disabled).</summary>
    public required byte[]? Token { get; init; }

    public required SamplingOptions Sampling { get; init; }

    public required IReadOnlyList<TargetRule> Rules { get; init; }

    public required LoggingOptions Logging { get; init; }

    public KubernetesOptions Kubernetes { get; init; } = new();

    /// <summary>Non-fatal observations made while loading (e.g. AllowActions without a token file), logged at start.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
