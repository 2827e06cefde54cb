using System.Globalization;
using System.Text.Json;

namespace MemWatch.IntegrationTests.Cli;

/// <summary>`memwatch inspect --introspect`: the allocator's own figures in the report, or why they are missing.</summary>
public sealed class InspectIntrospectCliTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Introspect_GlibcLiveBytes_InUseMatchesWorkloadAndArenaDetailsAddUp()
    {
        using Workload w = Workload.Start("live_bytes.c");
        w.Send("alloc 20000");
        long live = long.Parse(w.Send("freehalf").Split('=')[1], CultureInfo.InvariantCulture);

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(), "--json", "--introspect"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement a = doc.RootElement.GetProperty("allocator");
        Assert.Equal("glibc", a.GetProperty("name").GetString());
        Assert.Equal("injected", a.GetProperty("source").GetString());
        Assert.InRange(a.GetProperty("inUseBytes").GetInt64(), live * 0.99, (live * 1.01) + (2 * MiB));
        long free = a.GetProperty("freeBytes").GetInt64();
        Assert.True(free > 0 && a.GetProperty("releasableBytes").GetInt64() <= free, a.ToString());
        Assert.True(a.GetProperty("systemBytes").GetInt64() >= live, a.ToString());
        Assert.True(a.GetProperty("pauseMicroseconds").GetInt64() > 0);
        Assert.True(a.GetProperty("remoteCalls").GetInt32() >= 1);
        Assert.Equal(JsonValueKind.Null, a.GetProperty("introspectionError").ValueKind);

        JsonElement[] arenas = a.GetProperty("arenaDetails").EnumerateArray().ToArray();
        Assert.Equal(a.GetProperty("arenas").GetInt32(), arenas.Length);
        Assert.Equal(0, arenas[0].GetProperty("number").GetInt32());
        long arenaFree = arenas.Sum(x => x.GetProperty("fastbinFreeBytes").GetInt64() + x.GetProperty("binFreeBytes").GetInt64() + x.GetProperty("topBytes").GetInt64());
        Assert.Equal(free, arenaFree);
        Assert.Equal(JsonValueKind.Null, arenas[0].GetProperty("tcacheFreeBytes").ValueKind);
        Assert.Equal("OK", w.Send("live")[..2]);
    }

    [Fact]
    public void WatchIntrospect_SeedBlocksFreedBelowALiveOne_TopChunkPinned()
    {
        // 128 MiB of 100-byte blocks freed together: glibc consolidates them (a large free triggers malloc_consolidate)
        // into one free chunk, which stays because the FILE buffer the workload allocated after the fill sits above it.
        // Passively this looks like anything flat; the allocator's own figures name the mechanism.
        using Workload w = Workload.Start("seed.cc");
        w.Send("fill 128");
        w.Send("drop");

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(), "--json", "--watch", "4", "--introspect"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement v = doc.RootElement.GetProperty("verdict");
        Assert.True(v.GetProperty("introspected").GetBoolean(), v.ToString());
        Assert.Equal("allocator-retention", v.GetProperty("kind").GetString());
        Assert.True(v.GetProperty("mechanism").GetString() == "top-chunk-pinned", v.ToString());
        Assert.Contains(v.GetProperty("recommendations").EnumerateArray(), x => x.GetProperty("action").GetString()!.Contains("malloc_trim", StringComparison.Ordinal));
        Assert.Equal("injected", doc.RootElement.GetProperty("allocator").GetProperty("source").GetString());
        Assert.Equal("OK", w.Send("drop")[..2]);
    }

    [Fact]
    public void Introspect_Text_AddsTheAllocatorLine()
    {
        using Workload w = Workload.Start("seed.cc");
        w.Send("fill 16");
        w.Send("drop");

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(), "--introspect"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains("allocator says (injected, longest pause ", r.StandardOutput);
        Assert.Contains("REGION", r.StandardOutput);
    }

    [Fact]
    public void NoIntrospect_NothingAskedAndNoFigures()
    {
        using Workload w = Workload.Start("seed.cc");

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(), "--json"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement a = doc.RootElement.GetProperty("allocator");
        foreach (string field in new[] { "inUseBytes", "freeBytes", "releasableBytes", "systemBytes", "arenas", "source", "pauseMicroseconds", "introspectionError" })
        {
            Assert.Equal(JsonValueKind.Null, a.GetProperty(field).ValueKind);
        }

        Assert.Empty(a.GetProperty("arenaDetails").EnumerateArray());
    }

    [Fact]
    public void Introspect_StaticBinary_ReportStillPrintsWithTheReason()
    {
        using Workload w = Workload.Start("cgroup_alloc.c", extraFlags: "-static");
        w.Send("alloc 4");

        MemwatchCli.Result json = MemwatchCli.Run(["inspect", w.Pid.ToString(), "--json", "--introspect"]);
        MemwatchCli.Result text = MemwatchCli.Run(["inspect", w.Pid.ToString(), "--introspect"]);

        Assert.True(json.ExitCode == 0, json.StandardError);
        using JsonDocument doc = JsonDocument.Parse(json.StandardOutput);
        JsonElement a = doc.RootElement.GetProperty("allocator");
        Assert.Equal("allocator-not-supported", a.GetProperty("introspectionFailure").GetString());
        Assert.Contains("statically linked", a.GetProperty("introspectionError").GetString());
        Assert.Equal(JsonValueKind.Null, a.GetProperty("inUseBytes").ValueKind);
        Assert.Equal(JsonValueKind.Null, a.GetProperty("source").ValueKind);
        Assert.True(doc.RootElement.GetProperty("rssBytes").GetInt64() > 4 * MiB);

        Assert.True(text.ExitCode == 0, text.StandardError);
        Assert.Contains("allocator not asked (allocator-not-supported): ", text.StandardOutput);
        Assert.Equal("", text.StandardError);
    }
}
