namespace MemWatch.Daemon.Remediation;

/// <summary>
/// The seam where the history store's append-only audit log takes every remediation (who, when, target, before and
/// after, result); the lead wires Daemon/History to it. Called after the action, off the sampler thread.
/// </summary>
internal interface IRemediationAuditSink
{
    void Record(TrimOutcome outcome);
}
