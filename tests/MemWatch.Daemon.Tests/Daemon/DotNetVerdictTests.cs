using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>The daemon passes a .NET target's GC figures (start and end of the window) to the classifier.</summary>
public sealed class DotNetVerdictTests
{
    [Fact]
    public void ManagedLeak_VerdictIsManagedHeapGrowth()
    {
        using DotNetTarget target = DotNetTarget.Start();
        using DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            config["Sampling"] = new Dictionary<string, object?>
            {
                ["Interval"] = "00:00:01",
                ["RollupInterval"] = "00:00:02",
                ["SmapsInterval"] = "00:00:04",
                ["IntrospectInterval"] = "00:00:02",
                ["Window"] = "00:00:30",
            };
            config["Targets"] = new object[]
            {
                new Dictionary<string, object?> { ["Name"] = "dotnet", ["Pid"] = target.Pid, ["Introspect"] = true },
            };
        });

        // 8 MiB of live arrays every half second until the daemon says so (or 90 s pass). The summary must come from
        // the runtime's own figures (it says whether a GC would reclaim the growth), not from the gc-heap mappings alone.
        string label = $"pid=\"{target.Pid}\"";
        Poll.Until(
            () =>
            {
                target.Send("leak 8");
                return MetricsText.Value(daemon.Metrics(), "memwatch_verdict", label, "kind=\"managed-heap-growth\"") == 1
                    && daemon.GetJson($"/api/targets/{target.Pid}", out _).GetProperty("target").GetProperty("verdict") is { ValueKind: JsonValueKind.Object } v
                    && v.GetProperty("summary").GetString()!.Contains("allocated since the last GC", StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(90),
            () => $"no managed-heap-growth verdict from the GC figures for {target.Pid}:\n{daemon.Output}",
            everyMilliseconds: 500);

        Assert.True(MetricsText.Value(daemon.Metrics(), "memwatch_dotnet_gc_heap_bytes", label) > 0);
    }
}
