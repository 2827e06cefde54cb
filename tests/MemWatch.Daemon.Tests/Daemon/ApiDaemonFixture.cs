using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// One daemon with a token, watching three seed workloads by PID: "allowed" (AllowActions, Introspect), "passive"
/// (watched only) and "doomed" (killed by a test to see it leave).
/// </summary>
public sealed class ApiDaemonFixture : IDisposable
{
    public const string Token = "test-token-0123456789abcdef";

    public ApiDaemonFixture()
    {
        Allowed = Workload.Start("seed.cc");
        Passive = Workload.Start("seed.cc");
        Doomed = Workload.Start("seed.cc");
        Passive.Send("fill 64");
        Daemon = DaemonProcess.Start(
            config =>
            {
                config["Sampling"] = new Dictionary<string, object?>
                {
                    ["Interval"] = "00:00:01",
                    ["RollupInterval"] = "00:00:02",
                    ["SmapsInterval"] = "00:00:03",
                    ["IntrospectInterval"] = "00:00:02",
                    ["Window"] = "00:05:00",
                };
                config["Targets"] = new object[]
                {
                    new Dictionary<string, object?> { ["Name"] = "allowed", ["Pid"] = Allowed.Pid, ["AllowActions"] = true, ["Introspect"] = true },
                    new Dictionary<string, object?> { ["Name"] = "passive", ["Pid"] = Passive.Pid },
                    new Dictionary<string, object?> { ["Name"] = "doomed", ["Pid"] = Doomed.Pid },
                };
            },
            tokenFileContent: Token);
    }

    public Workload Allowed { get; }

    public Workload Passive { get; }

    public Workload Doomed { get; }

    public DaemonProcess Daemon { get; }

    public void Dispose()
    {
        Daemon.Dispose();
        Allowed.Dispose();
        Passive.Dispose();
        Doomed.Dispose();
    }
}
