using System.Net.Sockets;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// One EventPipe streaming session on a .NET runtime: started with CollectTracing2 on its own connection, whose
/// remainder is the nettrace stream (<see cref="Stream"/>); stopped with StopTracing on a second connection.
/// Dispose stops the session if needed and closes the connection, so the runtime frees the session either way.
/// </summary>
public sealed class EventPipeStreamSession : IDisposable
{
    private static int s_open;
    private readonly DiagnosticEndpoint _endpoint;
    private readonly Socket _socket;
    private readonly TimeSpan _timeout;
    private int _stopped;
    private int _disposed;

    private EventPipeStreamSession(DiagnosticEndpoint endpoint, Socket socket, ulong sessionId, TimeSpan timeout)
    {
        _endpoint = endpoint;
        _socket = socket;
        _timeout = timeout;
        SessionId = sessionId;
        Stream = new NetworkStream(socket, ownsSocket: false);
        Interlocked.Increment(ref s_open);
    }

    /// <summary>Sessions this process has started and not yet disposed (a leak check for tests and health).</summary>
    public static int OpenSessions => Volatile.Read(ref s_open);

    public ulong SessionId { get; }

    /// <summary>The nettrace event stream; it ends after <see cref="Stop"/> once the runtime has flushed.</summary>
    public Stream Stream { get; }

    /// <summary>Starts a session without rundown (rundown is only needed to resolve stacks and symbols).</summary>
    /// <param name="endpoint">The runtime.</param>
    /// <param name="providers">At least one provider.</param>
    /// <param name="circularBufferMB">The runtime-side buffer; events are dropped, not the process slowed, when it fills.</param>
    /// <param name="timeout">For connecting and each answer; the stream itself then has no read timeout.</param>
    public static EventPipeStreamSession Start(DiagnosticEndpoint endpoint, IReadOnlyList<EventPipeProviderSpec> providers, uint circularBufferMB, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfZero(providers.Count);
        Socket socket = DiagnosticsIpc.Connect(endpoint, timeout);
        try
        {
            byte[] answer = DiagnosticsIpc.Request(
                socket,
                DiagnosticsIpc.EventPipeCommandSet,
                DiagnosticsIpc.CollectTracing2,
                DiagnosticsIpc.CollectTracing2Payload(circularBufferMB, requestRundown: false, providers));
            ulong id = DiagnosticsIpc.ReadSessionId(answer);
            socket.ReceiveTimeout = 0;
            return new EventPipeStreamSession(endpoint, socket, id, timeout);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Asks the runtime to stop the session; idempotent. The stream then ends.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        using Socket control = DiagnosticsIpc.Connect(_endpoint, _timeout);
        DiagnosticsIpc.Request(control, DiagnosticsIpc.EventPipeCommandSet, DiagnosticsIpc.StopTracing, DiagnosticsIpc.SessionIdPayload(SessionId));
    }

    /// <summary>Closes the stream connection at once, which also makes the runtime end the session.</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the peer.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Stop();
        }
        catch (DotNetDiagnosticsException)
        {
            // The process exited or the session ended: closing the connection below is all that is left.
        }

        Stream.Dispose();
        _socket.Dispose();
        Interlocked.Decrement(ref s_open);
    }
}
