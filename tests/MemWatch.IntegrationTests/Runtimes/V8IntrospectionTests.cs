using System.Text.Json;
using MemWatch.IntegrationTests.Injection;
using MemWatch.Probes.Runtimes;
using MemWatch.Probes.Runtimes.Node;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// V8's heap figures asked from outside a real Node process (/usr/bin/node, tests/workloads/runtimes/v8_target.js;
/// docs/runtimes.md, "Node/V8"): they match V8's own account, a thread running JavaScript is refused, and the process
/// keeps serving, its timers on time, no thread left traced.
/// </summary>
public sealed class V8IntrospectionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Read_IdleNode_MatchesItsOwnHeapStatistics()
    {
        using V8Target node = V8Target.Start("idle");
        JsonElement before = node.Stats();
        RuntimeReading r = V8Introspection.Read(node.Pid, s_timeout);
        JsonElement after = node.Stats();
        output.WriteLine($"before: {before}");
        output.WriteLine($"after:  {after}");
        RuntimeHeapFigures f = r.Figures ?? throw new Xunit.Sdk.XunitException($"no figures: {r.Problem}");
        output.WriteLine($"ours: committed {f.CommittedBytes} used {f.UsedBytes} physical {f.PhysicalBytes} max {f.MaxBytes}; "
            + string.Join("; ", f.Spaces.Select(s => $"{s.Name} {s.UsedBytes}/{s.CommittedBytes}/{s.PhysicalBytes}")));

        // The limit is fixed at start (--max-old-space-size=512 plus the young generation): exactly V8's.
        Assert.Equal(U(before, "heap", "heap_size_limit"), f.MaxBytes);
        Assert.Equal(RuntimeKind.Node, f.Runtime);

        // Between the two reports the process ran its 20 ms heartbeat and parsed two command lines: a few KiB of new-space
        // allocation per tick, no page committed unless a GC or a fresh 256 KiB page came in between. So committed and
        // resident sizes must equal one of the two reports, and used sizes lie within the two reports widened by one
        // V8 page (256 KiB), which a single tick's allocation cannot exceed here.
        const ulong v8Page = 256 * 1024;
        AssertBetween("total_heap_size", f.CommittedBytes, before, after, 0, "heap", "total_heap_size");
        AssertBetween("total_physical_size", f.PhysicalBytes, before, after, 0, "heap", "total_physical_size");
        AssertBetween("used_heap_size", f.UsedBytes, before, after, v8Page, "heap", "used_heap_size");
        JsonElement[] spacesBefore = [.. before.GetProperty("spaces").EnumerateArray()];
        JsonElement[] spacesAfter = [.. after.GetProperty("spaces").EnumerateArray()];
        Assert.Equal(spacesBefore.Select(s => s.GetProperty("space_name").GetString()), f.Spaces.Select(s => s.Name));
        for (int i = 0; i < f.Spaces.Count; i++)
        {
            RuntimeSpace s = f.Spaces[i];
            AssertBetween(s.Name + " space_size", s.CommittedBytes, spacesBefore[i], spacesAfter[i], 0, "space_size");
            AssertBetween(s.Name + " physical_space_size", s.PhysicalBytes, spacesBefore[i], spacesAfter[i], 0, "physical_space_size");
            AssertBetween(s.Name + " space_used_size", s.UsedBytes, spacesBefore[i], spacesAfter[i], v8Page, "space_used_size");
        }
    }

    [Fact]
    public void Read_NodeRunningJavaScript_IsRefusedAndNeverCalled()
    {
        using V8Target node = V8Target.Start("busy 8");
        Thread.Sleep(500); // inside its 8 s loop: the main thread never returns to the event loop meanwhile

        RuntimeReading r = V8Introspection.Read(node.Pid, s_timeout);
        output.WriteLine($"busy: {r.Problem}");
        Assert.Null(r.Figures);
        Assert.Contains("not-safe", r.Problem, StringComparison.Ordinal);
        Assert.Contains($"thread {node.Pid}: the isolate's thread is running", r.Problem, StringComparison.Ordinal);

        // The loop went on to its end (the process answers only after it) and the heap can be asked once it idles.
        JsonElement stats = node.Stats();
        output.WriteLine($"after the loop: {stats}");
        Assert.True(stats.GetProperty("loops").GetInt64() > 0);
        Assert.Equal(0, stats.GetProperty("errors").GetInt32());
        RuntimeReading idle = V8Introspection.Read(node.Pid, s_timeout);
        Assert.True(idle.Figures is not null, idle.Problem);
        Assert.Null(AdversarialRun.ThreadsHeld(node.Pid));
    }

    [Fact]
    public void Read_FiftyTimes_NodeKeepsServingOnTimeAndUntraced()
    {
        using V8Target node = V8Target.Start("idle");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        long ticksBefore = node.Stats().GetProperty("ticks").GetInt64();
        int figures = 0;
        var problems = new List<string>();
        for (int i = 0; i < 50; i++)
        {
            RuntimeReading r = V8Introspection.Read(node.Pid, s_timeout);
            if (r.Figures is not null)
            {
                figures++;
            }
            else
            {
                problems.Add(r.Problem!);
            }

            Assert.Equal($"pong {i + 1}", node.Ping(http));
        }

        JsonElement after = node.Stats();
        output.WriteLine($"{figures} of 50 readings; refused: {string.Join(" | ", problems.Distinct())}");
        output.WriteLine($"after: ticks {after.GetProperty("ticks")} early {after.GetProperty("early")} errors {after.GetProperty("errors")} served {after.GetProperty("served")}");

        // Refusals are allowed (a stop that caught the loop in a callback), anything else is not; an idle loop is caught
        // idle nearly always.
        Assert.All(problems, p => Assert.Contains("not-safe", p, StringComparison.Ordinal));
        Assert.InRange(figures, 40, 50);
        Assert.False(node.HasExited);
        Assert.Equal(0, after.GetProperty("early").GetInt32());
        Assert.Equal(0, after.GetProperty("errors").GetInt32());
        Assert.Equal(50, after.GetProperty("served").GetInt32());
        Assert.True(after.GetProperty("ticks").GetInt64() > ticksBefore);
        Assert.Null(AdversarialRun.ThreadsHeld(node.Pid));
    }

    private static ulong U(JsonElement e, params string[] path)
    {
        foreach (string p in path)
        {
            e = e.GetProperty(p);
        }

        return e.GetUInt64();
    }

    private static void AssertBetween(string what, ulong? ours, JsonElement before, JsonElement after, ulong slack, params string[] path)
    {
        ulong a = U(before, path);
        ulong b = U(after, path);
        ulong low = Math.Min(a, b);
        ulong high = Math.Max(a, b);
        Assert.True(ours is { } v && v + slack >= low && v <= high + slack, $"{what}: ours {ours}, V8's {a} then {b} (slack {slack})");
    }
}
