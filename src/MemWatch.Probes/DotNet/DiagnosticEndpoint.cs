namespace MemWatch.Probes.DotNet;

/// <summary>
/// The diagnostic IPC socket of a .NET runtime (<c>dotnet-diagnostic-{pid}-{key}-socket</c>), as a path usable from the
/// caller's mount namespace.
/// </summary>
/// <param name="Pid">The process id as the caller sees it.</param>
/// <param name="NamespacePid">The process id inside its own pid namespace (the one in the socket name); equals
/// <paramref name="Pid"/> outside containers.</param>
/// <param name="SocketPath">The socket reached through <c>/proc/PID/root</c>, so it works across mount namespaces.</param>
/// <param name="DisambiguationKey">The key in the socket name: the runtime's process start time in clock ticks since boot.</param>
/// <param name="Listening">True when the socket was found bound in the target's <c>/proc/PID/net/unix</c>; false when that
/// check could not be made (the file was unreadable).</param>
public sealed record DiagnosticEndpoint(int Pid, int NamespacePid, string SocketPath, ulong DisambiguationKey, bool Listening)
{
    /// <summary>The process's root (<c>/proc/PID/root</c>) the socket is opened beneath, never leaving it; null for a
    /// socket given by its plain path (tests).</summary>
    public string? RootPath { get; init; }

    /// <summary>The socket's path as the process sees it (<c>$TMPDIR/dotnet-diagnostic-…-socket</c>), under <see cref="RootPath"/>.</summary>
    public string? PathInRoot { get; init; }

    /// <summary>The process's real and effective uid when it was located: the socket must be owned by one of them.</summary>
    public (uint Real, uint Effective)? OwnerUids { get; init; }
}
