namespace MemWatch.Daemon.Configuration;

/// <summary>When the daemon trims on its own: releasable above both thresholds, at most once per MinInterval. Off by default.</summary>
internal sealed class TrimPolicyOptions
{
    public bool Enabled { get; set; }

    public double MinReleasableMiB { get; set; } = 256;

    public double MinReleasablePercent { get; set; } = 25;

    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMinutes(30);
}
