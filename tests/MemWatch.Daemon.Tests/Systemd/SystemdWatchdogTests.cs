using MemWatch.Daemon.Systemd;

namespace MemWatch.Daemon.Tests.Systemd;

/// <summary>
/// WATCHDOG_USEC and WATCHDOG_PID as sd_watchdog_enabled(3) reads them: the interval applies only to the process
/// WATCHDOG_PID names (any process when it is unset); anything unparsable or zero means no watchdog.
/// </summary>
public sealed class SystemdWatchdogTests
{
    [Theory]
    [InlineData("2000000", null, 2.0)]
    [InlineData("2000000", "", 2.0)]
    [InlineData("2000000", "4242", 2.0)]
    [InlineData("2000000", "4243", null)]
    [InlineData("2000000", "-4242", null)]
    [InlineData("0", null, null)]
    [InlineData("-5", null, null)]
    [InlineData("2s", null, null)]
    [InlineData(null, null, null)]
    public void IntervalOnlyForThisProcess(string? usec, string? pid, double? seconds)
    {
        SystemdWatchdog watchdog = SystemdWatchdog.Parse(usec, pid, processId: 4242);
        Assert.Equal(seconds, watchdog.Interval?.TotalSeconds);
    }
}
