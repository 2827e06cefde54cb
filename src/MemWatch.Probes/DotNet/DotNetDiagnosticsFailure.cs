namespace MemWatch.Probes.DotNet;

/// <summary>Why a request to a .NET runtime's diagnostic server failed.</summary>
public enum DotNetDiagnosticsFailure
{
    /// <summary>The socket could not be connected (the process exited, or the runtime stopped listening).</summary>
    Unreachable,

    /// <summary>The caller may not connect (socket permissions: the target's user or root).</summary>
    PermissionDenied,

    /// <summary>The runtime answered with an error (its HRESULT is in the message).</summary>
    Refused,

    /// <summary>No answer, or not the expected events, within the time allowed.</summary>
    Timeout,

    /// <summary>The answer did not follow the diagnostic IPC protocol.</summary>
    Protocol,

    /// <summary>The socket's path was refused before connecting: a symbolic link, not a socket, or not owned by the
    /// process's user (a file the process planted to make a privileged caller connect elsewhere).</summary>
    Unsafe,
}
