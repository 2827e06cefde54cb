using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// One daemon with a token over three targets: "allowed", a .NET managed_target with a large gen0 budget (garbage stays
/// on its heap until something collects) holding 48 MiB of live arrays (Introspect, AllowActions); "passive", another
/// managed_target watched only; "native", a C workload with AllowActions; "nodiag", a managed_target without its
/// diagnostic server (Introspect, AllowActions).
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
        NoDiagnostics = DotNetTarget.Start(environment: new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" });
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
                    new Dictionary<string, object?> { ["Name"] = "nodiag", ["Pid"] = NoDiagnostics.Pid, ["AllowActions"] = true, ["Introspect"] = true },
                };
            },
            tokenFileContent: Token);
    }

    internal DotNetTarget Allowed { get; }

    internal DotNetTarget Passive { get; }

    public Workload Native { get; }

    /// <summary>A managed_target started with DOTNET_EnableDiagnostics=0: libcoreclr mapped, no socket.</summary>
    internal DotNetTarget NoDiagnostics { get; }

    public DaemonProcess Daemon { get; }

    public void Dispose()
    {
        Daemon.Dispose();
        Allowed.Dispose();
        Passive.Dispose();
        NoDiagnostics.Dispose();
        Native.Dispose();
    }
}
