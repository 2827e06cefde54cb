namespace MemWatch.Daemon.Configuration;

public sealed class RemediationOptions
{
    public TrimPolicyOptions Trim { get; set; } = new();
}
