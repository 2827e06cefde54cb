using System.Globalization;

namespace MemWatch.Daemon.Systemd;

/// <summary>
/// The service watchdog systemd asks of this process: WATCHDOG_USEC, unless WATCHDOG_PID names another process.
/// Microsoft.Extensions.Hosting.Systemd sends the notifications (<c>ISystemdNotifier</c>) but reads neither variable.
/// </summary>
/// <param name="Interval">WATCHDOG_USEC when the watchdog is on for this process; null otherwise.</param>
internal sealed record SystemdWatchdog(TimeSpan? Interval)
{
    public static SystemdWatchdog FromEnvironment() => Parse(
        Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId);

    public static SystemdWatchdog Parse(string? watchdogUsec, string? watchdogPid, int processId)
    {
        bool forUs = string.IsNullOrEmpty(watchdogPid)
            || (int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid == processId);
        return forUs && ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) && usec > 0
            ? new SystemdWatchdog(TimeSpan.FromMicroseconds(usec))
            : new SystemdWatchdog((TimeSpan?)null);
    }
}
