namespace MemWatch.Daemon.Configuration;

/// <summary>The daemon's configuration as bound from the JSON file, MEMWATCH_ environment variables and the command line.</summary>
/// <remarks>Property names are the configuration contract shared with deploy/ (see README); do not rename.</remarks>
internal sealed class DaemonOptions
{
    public const int DefaultPort = 9487;

    public string Listen { get; set; } = "127.0.0.1:9487";

    /// <summary>Null means $STATE_DIRECTORY (systemd StateDirectory=) or /var/lib/memwatch.</summary>
    public string? StateDirectory { get; set; }

    public AuthOptions Auth { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    public SamplingOptions Sampling { get; set; } = new();

    /// <summary>Empty after binding means the default rule: every process with RSS at or above 50 MiB, passive.</summary>
    public List<TargetOptions> Targets { get; set; } = [];

    public LoggingOptions Logging { get; set; } = new();

    public KubernetesOptions Kubernetes { get; set; } = new();
}
