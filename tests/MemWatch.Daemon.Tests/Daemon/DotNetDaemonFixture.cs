using MemWatch.Daemon.Tests.Support;
using MemWatch.IntegrationTests.DotNet;
using MemWatch.IntegrationTests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// One daemon with a token over three targets: "allowed", a .NET managed_target with a large gen0 budget (garbage stays
/// on its heap until something collects) holding 48 MiB of live arrays (Introspect, AllowActions); "passive", another
/// managed_target watched only; "native", a C workload with AllowActions.
/// </summary>
public sealed class DotNetDaemonFixture : IDisposable
{
    public const string Token = "dotnet-token-0123456789abcdef";

    public const int KeptMiB = 48;

    public DotNetDaemonFixture()
    {
        Allowed = DotNetTarget.Start(largeGen0: true);
        Allowed.Send($"leak {KeptMiB}");
        Passive = DotNetTarget.Start();
        Native = Workload.Start("seed.cc");
        Daemon = DaemonProcess.Start(
            config =>
            {
                config["Sampling"] = new Dictionary<string, object?>
                {
                    ["Interval"] = "00:00:01",
                    ["RollupInterval"] = "00:00:02",
                    ["SmapsInterval"] = "00:00:02",
                    ["IntrospectInterval"] = "00:00:02",
                    ["Window"] = "00:05:00",
                };
                config["Targets"] = new object[]
                {
                    new Dictionary<string, object?> { ["Name"] = "allowed", ["Pid"] = Allowed.Pid, ["AllowActions"] = true, ["Introspect"] = true },
                    new Dictionary<string, object?> { ["Name"] = "passive", ["Pid"] = Passive.Pid },
                    new Dictionary<string, object?> { ["Name"] = "native", ["Pid"] = Native.Pid, ["AllowActions"] = true },
                };
            },
            tokenFileContent: Token);
    }

    internal DotNetTarget Allowed { get; }

    internal DotNetTarget Passive { get; }

    public Workload Native { get; }

    public DaemonProcess Daemon { get; }

    public void Dispose()
    {
        Daemon.Dispose();
        Allowed.Dispose();
        Passive.Dispose();
        Native.Dispose();
    }
}
