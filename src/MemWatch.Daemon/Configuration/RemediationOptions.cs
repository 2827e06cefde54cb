namespace MemWatch.Daemon.Configuration;

internal sealed class RemediationOptions
{
    public TrimPolicyOptions Trim { get; set; } = new();
}
