namespace MemWatch.Daemon.Remediation;

internal enum TrimTrigger
{
    /// <summary>POST /api/targets/{pid}/trim.</summary>
    Api,

    /// <summary>The target's Remediation.Trim policy.</summary>
    Policy,
}
