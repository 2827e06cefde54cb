using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace MemWatch.Daemon.Systemd;

/// <summary>
/// sd_notify(3) without libsystemd: datagrams to the unix socket in $NOTIFY_SOCKET (a path, or '@' for an abstract
/// name). Absent variable: every call does nothing, so the daemon runs the same outside systemd.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;

    public SystemdNotifier(string? notifySocket, string? watchdogUsec, string? watchdogPid)
    {
        if (!string.IsNullOrEmpty(notifySocket) && (notifySocket[0] == '/' || notifySocket[0] == '@'))
        {
            // Abstract socket names are written with a leading NUL in the address.
            string path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
            _endpoint = new UnixDomainSocketEndPoint(path);
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        }

        bool forUs = string.IsNullOrEmpty(watchdogPid)
            || (int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid == Environment.ProcessId);
        if (forUs && ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) && usec > 0)
        {
            WatchdogInterval = TimeSpan.FromMicroseconds(usec);
        }
    }

    public static SystemdNotifier FromEnvironment() => new(
        Environment.GetEnvironmentVariable("NOTIFY_SOCKET"),
        Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
        Environment.GetEnvironmentVariable("WATCHDOG_PID"));

    public bool Enabled => _socket is not null;

    /// <summary>WATCHDOG_USEC when the watchdog is on for this process; null otherwise.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>Sends one state string (e.g. "READY=1\nSTATUS=..."); false when not under systemd or the send failed.</summary>
    public bool Notify(string state)
    {
        if (_socket is null || _endpoint is null)
        {
            return false;
        }

        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endpoint);
            return true;
        }
        catch (SocketException)
        {
            // systemd went away or the socket is not ours to write: notifications are best effort.
            return false;
        }
    }

    public void Dispose() => _socket?.Dispose();
}
