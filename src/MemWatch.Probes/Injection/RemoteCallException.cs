namespace MemWatch.Probes.Injection;

/// <summary>
/// A remote call could not be made or did not complete. <see cref="Reason"/> says why; the target thread
/// was restored and released before this was thrown.
/// </summary>
public sealed class RemoteCallException : Exception
{
    public RemoteCallException(RemoteCallFailure reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
    }

    public RemoteCallFailure Reason { get; }
}
