using System.Net;
using Microsoft.AspNetCore.Connections;

namespace MemWatch.Daemon.Http;

/// <summary>
/// Kestrel connection middleware: at most <see cref="PerNetwork"/> open connections from one client network (IPv4 /24,
/// IPv6 /64); beyond that a new connection is closed at once, before TLS or HTTP. One party holding connections open
/// (half-open, slow headers) then fills its own share only, and /healthz and /metrics stay answerable for the others;
/// the server-wide limit (<see cref="Total"/>) is far above what one network may hold.
/// </summary>
internal sealed class ConnectionLimiter
{
    public const int PerNetwork = 32;
    public const int Total = 2048;

    private readonly ClientLimiter _slots = new(perSecond: 1, burst: 1);
    private readonly int[] _open = new int[ClientLimiter.Slots];
    private int _refused;

    /// <summary>Connections closed at once because their network held its share (for tests and logs).</summary>
    public int Refused => Volatile.Read(ref _refused);

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        IPAddress? client = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        int slot = _slots.Slot(client);
        if (Interlocked.Increment(ref _open[slot]) > PerNetwork)
        {
            Interlocked.Decrement(ref _open[slot]);
            Interlocked.Increment(ref _refused);
            connection.Abort(new ConnectionAbortedException("too many connections from this network"));
            return;
        }

        try
        {
            await next(connection);
        }
        finally
        {
            Interlocked.Decrement(ref _open[slot]);
        }
    };
}
