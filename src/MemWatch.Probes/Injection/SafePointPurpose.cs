namespace MemWatch.Probes.Injection;

/// <summary>Why <see cref="ISafePointRule"/> is asked.</summary>
internal enum SafePointPurpose
{
    /// <summary>May a call start on this thread now?</summary>
    Start,

    /// <summary>The callee outlived its timeout and the thread is stopped inside it: may it be put back where it was?</summary>
    Rollback,
}
