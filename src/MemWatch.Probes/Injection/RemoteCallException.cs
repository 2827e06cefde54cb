namespace MemWatch.Probes.Injection;

/// <summary>
/// A remote call could not be made or did not complete. <see cref="Reason"/> says why; the target thread
/// was restored and released before this was thrown, except when <see cref="LeftInCallee"/> says otherwise.
/// </summary>
public sealed class RemoteCallException : Exception
{
    public RemoteCallException(RemoteCallFailure reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
    }

    public RemoteCallFailure Reason { get; }

    /// <summary>
    /// A <see cref="RemoteCallFailure.Timeout"/> that could not be rolled back: the thread was released still inside the
    /// callee, which may hold a lock. It restores itself when the callee returns; the caller should stop acting on the target.
    /// </summary>
    public bool LeftInCallee { get; init; }
}
