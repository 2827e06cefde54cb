using System.Text.Json;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Runtimes.Node;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>V8's heap figures asked from outside a real Node process (docs/runtimes.md, "Node/V8").</summary>
public sealed class V8IntrospectionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Read_IdleNode_GivesFigures()
    {
        using V8Target node = V8Target.Start("idle");
        JsonElement before = node.Stats();
        RuntimeReading r = V8Introspection.Read(node.Pid, s_timeout);
        JsonElement after = node.Stats();
        output.WriteLine($"problem: {r.Problem}");
        output.WriteLine(before.ToString());
        output.WriteLine(after.ToString());
        if (r.Figures is { } f)
        {
            output.WriteLine($"ours: committed {f.CommittedBytes} used {f.UsedBytes} physical {f.PhysicalBytes} max {f.MaxBytes}");
            foreach (RuntimeSpace s in f.Spaces)
            {
                output.WriteLine($"  {s.Name} used {s.UsedBytes} committed {s.CommittedBytes} physical {s.PhysicalBytes}");
            }
        }

        Assert.NotNull(r.Figures);
    }
}
