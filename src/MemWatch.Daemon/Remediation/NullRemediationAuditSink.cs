namespace MemWatch.Daemon.Remediation;

/// <summary>No audit store wired in (the log line of each action remains).</summary>
internal sealed class NullRemediationAuditSink : IRemediationAuditSink
{
    public void Record(TrimOutcome outcome)
    {
    }
}
