using System.Net.Sockets;
using MemWatch.Probes.Files;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// How MemWatch reaches a runtime's diagnostic socket: the located socket is opened beneath the process's root without
/// following links and must be a socket owned by the process's user (<see cref="ProcessRoot.OpenSocket"/>); connections
/// then go to that very inode through <c>/proc/self/fd/N</c>, so nothing can be swapped in between. The protocol on top
/// is Microsoft.Diagnostics.NETCore.Client's, given that path as its diagnostic port (<see cref="EventPipeStreamSession"/>).
/// </summary>
internal static class DiagnosticsIpc
{
    /// <summary>
    /// The checked path to connect to, and the descriptor that keeps it valid: dispose it only when no connection to the
    /// endpoint will be made any more. A socket given by a plain path (tests) comes back as is, without a descriptor.
    /// </summary>
    /// <exception cref="DotNetDiagnosticsException">Unsafe, PermissionDenied or Unreachable.</exception>
    public static (string Path, SafeFileHandle? Handle) OpenPort(DiagnosticEndpoint endpoint)
    {
        if (endpoint.RootPath is not { } rootPath || endpoint.PathInRoot is not { } inRoot || endpoint.OwnerUids is not { } uids)
        {
            return (endpoint.SocketPath, null);
        }

        try
        {
            using ProcessRoot root = ProcessRoot.Open(rootPath);
            SafeFileHandle socket = root.OpenSocket(inRoot, uids.Real, uids.Effective);
            return (CheckedFile.DescriptorPath(socket), socket);
        }
        catch (UnsafeFileException e)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Unsafe, e.Message, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.PermissionDenied, e.Message, e);
        }
        catch (IOException e)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Unreachable, e.Message, e);
        }
    }

    /// <summary>Connects a plain socket to the endpoint through <see cref="OpenPort"/>; failures become <see cref="DotNetDiagnosticsException"/>.</summary>
    public static Socket Connect(DiagnosticEndpoint endpoint, TimeSpan timeout)
    {
        (string path, SafeFileHandle? handle) = OpenPort(endpoint);
        using (handle)
        {
            return Connect(path, timeout, shownAs: endpoint.SocketPath);
        }
    }

    /// <summary>Connects to the socket at a plain path; failures become <see cref="DotNetDiagnosticsException"/>.</summary>
    public static Socket Connect(string path, TimeSpan timeout, string? shownAs = null)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.SendTimeout = socket.ReceiveTimeout = ToMilliseconds(timeout);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new DotNetDiagnosticsException(
                e.SocketErrorCode == SocketError.AccessDenied ? DotNetDiagnosticsFailure.PermissionDenied : DotNetDiagnosticsFailure.Unreachable,
                $"cannot connect to {shownAs ?? path}: {e.Message}",
                e);
        }
    }

    public static int ToMilliseconds(TimeSpan timeout) => (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
}
