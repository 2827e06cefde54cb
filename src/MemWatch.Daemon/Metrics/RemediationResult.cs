namespace MemWatch.Daemon.Metrics;

/// <summary>The <c>result</c> label of memwatch_remediations_total.</summary>
internal enum RemediationResult
{
    /// <summary>The allocator said it gave memory back.</summary>
    Released,

    /// <summary>The call was made; the allocator does not say (or there was nothing to give back).</summary>
    Requested,

    /// <summary>Not attempted: not allowed, busy, unsafe moment, ptrace refused.</summary>
    Refused,

    /// <summary>Attempted and failed (timeout, callee fault, allocator error).</summary>
    Failed,
}
