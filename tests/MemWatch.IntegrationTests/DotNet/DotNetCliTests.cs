using System.Text.Json;

namespace MemWatch.IntegrationTests.DotNet;

/// <summary><c>memwatch gc</c> and the <c>dotnet</c> section of <c>memwatch inspect</c>, run as real processes.</summary>
[Collection(DotNetTargetsCollection.Name)]
public sealed class DotNetCliTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Gc_ChurnTarget_JsonShowsTheHeapShrinking()
    {
        using DotNetTarget target = DotNetTarget.Start(largeGen0: true);
        Dictionary<string, long> churned = target.Send("churn 64");
        Assert.True(churned["total"] >= 60 * MiB, $"the target collected its garbage by itself: {churned["total"]}");

        MemwatchCli.Result r = MemwatchCli.Run(["gc", target.Pid.ToString(), "--json"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement root = doc.RootElement;
        Assert.Equal(target.Pid, root.GetProperty("pid").GetInt32());
        Assert.Equal("released", root.GetProperty("result").GetString());
        Assert.True(root.GetProperty("gcObserved").GetBoolean());
        Assert.True(root.GetProperty("heapBeforeBytes").GetInt64() >= 60 * MiB);
        Assert.True(root.GetProperty("heapAfterBytes").GetInt64() < 16 * MiB);
        Assert.Equal(
            root.GetProperty("heapBeforeBytes").GetInt64() - root.GetProperty("heapAfterBytes").GetInt64(),
            root.GetProperty("reclaimedBytes").GetInt64());
        Assert.True(root.GetProperty("pauseMilliseconds").GetDouble() > 0);
        Assert.True(root.GetProperty("rssAfterBytes").GetInt64() > 0);
        Assert.True(target.Send("stats")["gen2"] > churned["gen2"]);
    }

    [Theory]
    [InlineData("leak", "managed-heap-growth")]
    [InlineData("native", "leak")]
    public void InspectWatch_GrowingDotNetTarget_VerdictWeighsTheGcHeap(string command, string expected)
    {
        // A managed leak grows the GC heap (which survives GCs); a native leak (AllocHGlobal) grows RSS with the GC heap flat.
        using DotNetTarget target = DotNetTarget.Start();
        System.Diagnostics.Process cli = MemwatchCli.Start(["inspect", target.Pid.ToString(), "--json", "--watch", "8", "--dotnet"]);
        long until = Environment.TickCount64 + 90_000;
        while (!cli.HasExited && Environment.TickCount64 < until)
        {
            target.Send($"{command} 8");
            Thread.Sleep(250);
        }

        MemwatchCli.Result r = MemwatchCli.Wait(cli, TimeSpan.FromSeconds(60));

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement verdict = doc.RootElement.GetProperty("verdict");
        Assert.True(verdict.GetProperty("kind").GetString() == expected, verdict.ToString());
        Assert.True(doc.RootElement.GetProperty("dotnet").GetProperty("gcHeapBytes").GetInt64() > 0);
    }

    [Fact]
    public void Gc_Text_SaysWhatTheGcFreed()
    {
        using DotNetTarget target = DotNetTarget.Start();

        MemwatchCli.Result r = MemwatchCli.Run(["gc", target.Pid.ToString()]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains($"pid {target.Pid}: full blocking GC ran", r.StandardOutput);
        Assert.Contains("GC heap ", r.StandardOutput);
        Assert.Contains(" -> ", r.StandardOutput);
    }

    [Fact]
    public void Gc_NotDotNet_Exit6_NoSuchProcess_Exit3_BadPid_Exit2()
    {
        using Workload native = Workload.Start("cgroup_alloc.c");

        MemwatchCli.Result notDotNet = MemwatchCli.Run(["gc", native.Pid.ToString()]);
        MemwatchCli.Result gone = MemwatchCli.Run(["gc", int.MaxValue.ToString()]);
        MemwatchCli.Result bad = MemwatchCli.Run(["gc", "abc"]);

        Assert.Equal(6, notDotNet.ExitCode);
        Assert.Equal($"memwatch: not a .NET process: {native.Pid} has no diagnostic socket (or runs with DOTNET_EnableDiagnostics=0)", notDotNet.StandardError.Trim());
        Assert.Equal("", notDotNet.StandardOutput);
        Assert.Equal(3, gone.ExitCode);
        Assert.Single(gone.StandardError.Trim().Split('\n'));
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public void Gc_AsAnotherUser_Exit4WithOneLine()
    {
        using DotNetTarget target = DotNetTarget.Start();
        int gen2 = (int)target.Send("stats")["gen2"];

        // nobody may not look into a root process's /proc/PID/root (ptrace access); the GC must not run.
        MemwatchCli.Result r = MemwatchCli.Run(
            ["gc", target.Pid.ToString()],
            prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "env", "HOME=/tmp"]);

        Assert.Equal(4, r.ExitCode);
        Assert.StartsWith("memwatch: permission denied", r.StandardError);
        Assert.Single(r.StandardError.TrimEnd().Split('\n'));
        Assert.Equal(gen2, target.Send("stats")["gen2"]);
    }

    [Fact]
    public void Inspect_DotNetTarget_JsonCarriesManagedFigures()
    {
        using DotNetTarget target = DotNetTarget.Start();
        Dictionary<string, long> before = target.Send("leak 64");

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", target.Pid.ToString(), "--json", "--dotnet"]);

        Dictionary<string, long> after = target.Send("stats");
        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement root = doc.RootElement;
        Assert.True(root.GetProperty("allocator").GetProperty("dotNetRuntime").GetBoolean());
        JsonElement dotnet = root.GetProperty("dotnet");
        Assert.InRange(dotnet.GetProperty("gcHeapBytes").GetInt64(), Math.Min(before["total"], after["total"]) - MiB, Math.Max(before["total"], after["total"]) + MiB);
        // Committed bytes are as of the runtime's last GC, which may precede the end of the 64 MiB allocation:
        // compare with the runtime's own figure (GCMemoryInfo.TotalCommittedBytes) read on both sides.
        Assert.InRange(
            dotnet.GetProperty("gcCommittedBytes").GetInt64(),
            Math.Min(before["committed"], after["committed"]) - MiB,
            Math.Max(before["committed"], after["committed"]) + MiB);
        Assert.StartsWith($"/proc/{target.Pid}/root/", dotnet.GetProperty("socketPath").GetString());
        JsonElement split = dotnet.GetProperty("split");
        Assert.Equal(dotnet.GetProperty("gcHeapBytes").GetInt64(), split.GetProperty("managedHeapBytes").GetInt64());
        Assert.True(split.GetProperty("gcResidentBytes").GetInt64() >= 64 * MiB);
        Assert.True(split.GetProperty("otherNativeBytes").GetInt64() > 0);
        Assert.Empty(root.GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public void Inspect_Text_DotNetTargetShowsGcHeapLine_NativeTargetHasNoDotnetSection()
    {
        using DotNetTarget target = DotNetTarget.Start();
        using Workload native = Workload.Start("cgroup_alloc.c");

        MemwatchCli.Result dn = MemwatchCli.Run(["inspect", target.Pid.ToString(), "--dotnet"]);
        MemwatchCli.Result c = MemwatchCli.Run(["inspect", native.Pid.ToString(), "--json"]);

        Assert.True(dn.ExitCode == 0, dn.StandardError);
        Assert.Contains(".NET GC heap ", dn.StandardOutput);
        Assert.Contains(".NET split: managed heap ", dn.StandardOutput);
        Assert.True(c.ExitCode == 0, c.StandardError);
        using JsonDocument doc = JsonDocument.Parse(c.StandardOutput);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("dotnet").ValueKind);
    }

    [Fact]
    public void Inspect_DotNetTargetWithoutDiagnostics_WarnsAndStillReports()
    {
        using DotNetTarget target = DotNetTarget.Start(environment: new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" });

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", target.Pid.ToString(), "--json", "--dotnet"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("dotnet").ValueKind);
        Assert.Contains(doc.RootElement.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.StartsWith("dotnet: ", StringComparison.Ordinal));
    }
}
