using System.Globalization;
using System.Text.RegularExpressions;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// Issue 14, item 7: started the way a unit starts it (standard output the journal's stream, a local time zone, a
/// permissive umask), the daemon logs UTC timestamps marked Z, puts journald priority prefixes on its lines, and
/// creates its state and log files 0600. Issue 15: each line carries its event id.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class LoggingSafetyTests
{
    [Fact]
    public void UnderTheJournal_PrioritiesUtcTimestampsAndPrivateFiles()
    {
        // JOURNAL_STREAM names the daemon's own standard output (the pipe the test reads), as systemd names the journal's socket.
        string[] prefix = ["sh", "-c", "umask 022; JOURNAL_STREAM=$(stat -L -c %d:%i /proc/$$/fd/1); export JOURNAL_STREAM; exec \"$@\"", "sh"];
        string logFile = "";
        using DaemonProcess daemon = DaemonProcess.Start(
            config =>
            {
                logFile = Path.Combine(Path.GetDirectoryName((string)config["StateDirectory"]!)!, "memwatch.log");
                config["Logging"] = new Dictionary<string, object?> { ["Level"] = "Debug", ["File"] = logFile };
                config["Sampling"] = TestConfig.FastSampling();
                // A rule that allows actions without a token file: the daemon warns at start.
                config["Targets"] = new object[] { new Dictionary<string, object?> { ["Name"] = "self", ["Pid"] = Environment.ProcessId, ["AllowActions"] = true } };
            },
            environment: new Dictionary<string, string> { ["TZ"] = "America/New_York" },
            prefix: prefix);
        daemon.AssertLogged("memwatch starting");
        DateTime now = DateTime.UtcNow;

        string[] lines = daemon.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("<4>", StringComparison.Ordinal) && l.Contains("AllowActions", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("<6>", StringComparison.Ordinal) && l.Contains("memwatch starting", StringComparison.Ordinal));
        string started = lines.First(l => l.Contains("memwatch starting", StringComparison.Ordinal));
        Match m = Stamp().Match(started);
        Assert.True(m.Success, started);
        DateTime stamped = DateTime.ParseExact(m.Groups[1].Value, "yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture);
        Assert.True(Math.Abs((now - stamped).TotalMinutes) < 10, $"'{started}' is not UTC (now {now:O})");

        // Each line carries its event id after the source (Logging/Log.cs; the table in docs/daemon.md).
        Assert.Contains(" INF MemWatch.Daemon[1005]: memwatch starting", started, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("<4>", StringComparison.Ordinal) && l.Contains("MemWatch.Daemon[1001]: config:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"MemWatch.Daemon.Sampling.Sampler[2001]: watching {Environment.ProcessId} (", StringComparison.Ordinal));

        string state = Path.Combine(Path.GetDirectoryName(logFile)!, "state");
        string[] files = [logFile, .. Directory.EnumerateFiles(state, "history.db*")];
        Assert.Contains(files, f => f.EndsWith("history.db", StringComparison.Ordinal));
        foreach (string file in files)
        {
            Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} is mode {Convert.ToString((int)File.GetUnixFileMode(file), 8)}");
        }
    }

    [GeneratedRegex(@"^<\d>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")]
    private static partial Regex Stamp();
}
