using System.Diagnostics.Tracing;
using System.Net.Sockets;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// One EventPipe streaming session on a .NET runtime, through Microsoft.Diagnostics.NETCore.Client: CollectTracing2 on
/// its own connection, whose remainder is the nettrace stream (<see cref="Stream"/>); StopTracing on a second one. The
/// client is given MemWatch's checked socket path (<see cref="DiagnosticsIpc.OpenPort"/>), whose descriptor stays open
/// until the session is disposed, so both connections reach the inode that was checked. Every call is bounded by the
/// timeout; the library's failures (and anything a garbled answer makes it throw) become
/// <see cref="DotNetDiagnosticsException"/>. Dispose stops the session if needed and closes the connection.
/// </summary>
public sealed class EventPipeStreamSession : IDisposable
{
    private static int s_open;
    private readonly EventPipeSession _session;
    private readonly SafeFileHandle? _port;
    private readonly string _shownAs;
    private readonly TimeSpan _timeout;
    private int _stopped;
    private int _disposed;

    private EventPipeStreamSession(EventPipeSession session, SafeFileHandle? port, string shownAs, TimeSpan timeout)
    {
        _session = session;
        _port = port;
        _shownAs = shownAs;
        _timeout = timeout;
        Interlocked.Increment(ref s_open);
    }

    /// <summary>Sessions this process has started and not yet disposed (a leak check for tests and health).</summary>
    public static int OpenSessions => Volatile.Read(ref s_open);

    /// <summary>The nettrace event stream; it ends after <see cref="Stop"/> once the runtime has flushed.</summary>
    public Stream Stream => _session.EventStream;

    /// <summary>Starts a session without rundown (rundown is only needed to resolve stacks and symbols).</summary>
    /// <param name="endpoint">The runtime.</param>
    /// <param name="providers">At least one provider.</param>
    /// <param name="circularBufferMB">The runtime-side buffer; events are dropped, not the process slowed, when it fills.</param>
    /// <param name="timeout">For connecting and the answer; the stream itself then has no read timeout.</param>
    public static EventPipeStreamSession Start(DiagnosticEndpoint endpoint, IReadOnlyList<EventPipeProviderSpec> providers, uint circularBufferMB, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfZero(providers.Count);
        (string path, SafeFileHandle? port) = DiagnosticsIpc.OpenPort(endpoint);
        try
        {
            EventPipeProvider[] enabled = [.. providers.Select(p => new EventPipeProvider(
                p.Name, (EventLevel)p.Level, unchecked((long)p.Keywords), p.Arguments?.ToDictionary(kv => kv.Key, kv => kv.Value)))];
            EventPipeSession session = Call(endpoint.SocketPath, timeout, async token =>
            {
                DiagnosticsClientConnector connector = await DiagnosticsClientConnector.FromDiagnosticPort(path + ",connect", token).ConfigureAwait(false);
                await using (connector.ConfigureAwait(false))
                {
                    return await connector.Instance.StartEventPipeSessionAsync(enabled, requestRundown: false, (int)circularBufferMB, token).ConfigureAwait(false);
                }
            });
            return new EventPipeStreamSession(session, port, endpoint.SocketPath, timeout);
        }
        catch
        {
            port?.Dispose();
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

        Call(_shownAs, _timeout, async token =>
        {
            await _session.StopAsync(token).ConfigureAwait(false);
            return 0;
        });
    }

    /// <summary>Closes the stream connection at once, which also makes the runtime end the session.</summary>
    public void Abort()
    {
        try
        {
            _session.EventStream.Dispose();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // Already closed by the peer.
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

        Abort();
        _port?.Dispose();
        Interlocked.Decrement(ref s_open);
    }

    /// <summary>Runs one library call within <paramref name="timeout"/>, its failures as <see cref="DotNetDiagnosticsException"/>.</summary>
    private static T Call<T>(string shownAs, TimeSpan timeout, Func<CancellationToken, Task<T>> call)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return call(cancel.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e) when (cancel.IsCancellationRequested)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Timeout, $"the runtime at {shownAs} did not answer within {timeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (e is ServerNotAvailableException or IOException or SocketException or ObjectDisposedException)
        {
            bool denied = e is SocketException { SocketErrorCode: SocketError.AccessDenied } || e.InnerException is SocketException { SocketErrorCode: SocketError.AccessDenied };
            throw new DotNetDiagnosticsException(
                denied ? DotNetDiagnosticsFailure.PermissionDenied : DotNetDiagnosticsFailure.Unreachable, $"cannot talk to {shownAs}: {e.Message}", e);
        }
        catch (Exception e) when (e is ServerErrorException or UnsupportedCommandException or UnsupportedProtocolException)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Refused, $"the runtime at {shownAs} refused: {e.Message}", e);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The answer is the target's to write: whatever a garbled one makes the client throw is a protocol error.
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Protocol, $"unexpected answer from {shownAs}: {e.GetType().Name}: {e.Message}", e);
        }
    }
}
