using System.Text.Json;

namespace MemWatch.IntegrationTests.Cli;

/// <summary>`memwatch inspect` run as a real process against real workloads.</summary>
public sealed class InspectCliTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Inspect_WorkloadInLimitedCgroup_JsonHasRegionsAllocatorAndCgroup()
    {
        using var cgroup = new TemporaryMemoryCgroup(256 * MiB);
        using Workload w = Workload.Start("cgroup_alloc.c");
        cgroup.Add(w.Pid);
        w.Send("alloc 64");

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(), "--json"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement root = doc.RootElement;
        Assert.Equal(w.Pid, root.GetProperty("pid").GetInt32());
        Assert.Equal("cgroup_alloc", root.GetProperty("command").GetString());
        Assert.Equal("glibc", root.GetProperty("allocator").GetProperty("name").GetString());
        Assert.InRange(root.GetProperty("rssBytes").GetInt64(), 64 * MiB, 200 * MiB);
        Assert.True(root.GetProperty("pssBytes").GetInt64() > 0);
        Assert.Equal(0, root.GetProperty("swapBytes").GetInt64());
        Assert.Equal(0, root.GetProperty("arenas").GetInt32());

        // 1 MiB blocks are above the 128 KiB mmap threshold: each is an mmapped chunk (the kernel merges adjacent
        // ones into fewer mappings, and counts are of mappings).
        JsonElement chunks = root.GetProperty("regions").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "mmap-chunk");
        Assert.InRange(chunks.GetProperty("count").GetInt32(), 1, 64);
        Assert.InRange(chunks.GetProperty("rssBytes").GetInt64(), 64 * MiB, 66 * MiB);
        foreach (JsonElement region in root.GetProperty("regions").EnumerateArray())
        {
            Assert.True(region.GetProperty("sizeBytes").GetInt64() >= region.GetProperty("rssBytes").GetInt64());
        }

        JsonElement cg = root.GetProperty("cgroup");
        Assert.Equal(cgroup.CgroupPath, cg.GetProperty("path").GetString());
        Assert.Equal(256 * MiB, cg.GetProperty("limitBytes").GetInt64());
        Assert.InRange(cg.GetProperty("usageBytes").GetInt64(), 64 * MiB, 256 * MiB);
        Assert.Equal(0, cg.GetProperty("oomKills").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("growth").ValueKind);
    }

    [Fact]
    public void Inspect_Text_ShowsTotalsRegionTableAndAllocator()
    {
        using Workload w = Workload.Start("cgroup_alloc.c");
        w.Send("alloc 8");

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString()]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains($"pid {w.Pid}  cgroup_alloc", r.StandardOutput);
        Assert.Contains("allocator glibc", r.StandardOutput);
        Assert.Contains("REGION", r.StandardOutput);
        Assert.Contains("mmap-chunk", r.StandardOutput);
        Assert.Equal("", r.StandardError);
    }

    [Fact]
    public void InspectWatch_GrowingWorkload_ReportsGrowthAndMinorFaults()
    {
        using Workload w = Workload.Start("cgroup_alloc.c");
        System.Diagnostics.Process cli = MemwatchCli.Start(["inspect", w.Pid.ToString(), "--json", "--watch", "4"]);

        // 10 MiB every 250 ms for as long as memwatch watches (its start-up time varies with load): about 40 MiB/s,
        // each page touched once (a minor fault).
        long until = Environment.TickCount64 + 60_000;
        while (!cli.HasExited && Environment.TickCount64 < until)
        {
            w.Send("alloc 10");
            Thread.Sleep(250);
        }

        MemwatchCli.Result r = MemwatchCli.Wait(cli, TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement growth = doc.RootElement.GetProperty("growth");
        Assert.True(growth.GetProperty("samples").GetInt32() >= 10, growth.ToString());
        Assert.True(growth.GetProperty("rssEndBytes").GetInt64() - growth.GetProperty("rssStartBytes").GetInt64() >= 60 * MiB, growth.ToString());
        Assert.InRange(growth.GetProperty("rssBytesPerSecond").GetDouble(), 10.0 * MiB, 80.0 * MiB);
        JsonElement faults = doc.RootElement.GetProperty("faults");
        Assert.True(faults.GetProperty("minorPerSecond").GetDouble() > 2000, faults.ToString());
        Assert.Equal(0.0, faults.GetProperty("majorPerSecond").GetDouble());
    }

    [Fact]
    public void Inspect_ExitedProcess_Exits3WithOneLine()
    {
        int pid;
        using (Workload w = Workload.Start("cgroup_alloc.c"))
        {
            pid = w.Pid;
        }

        MemwatchCli.Result r = MemwatchCli.Run(["inspect", pid.ToString()]);

        Assert.Equal(3, r.ExitCode);
        Assert.Equal($"memwatch: no such process: {pid}", r.StandardError.TrimEnd());
        Assert.Equal("", r.StandardOutput);
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("inspect", "abc")]
    [InlineData("inspect", "0")]
    [InlineData("inspect", "-3")]
    [InlineData("inspect", "1", "--watch", "0")]
    [InlineData("inspect", "1", "--watch", "soon")]
    [InlineData("inspect", "1", "--bogus")]
    [InlineData("frobnicate")]
    public void BadUsage_Exits2WithOneLine(params string[] args)
    {
        MemwatchCli.Result r = MemwatchCli.Run(args);

        Assert.Equal(2, r.ExitCode);
        string[] lines = r.StandardError.TrimEnd().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("memwatch: ", lines[0]);
    }

    [Fact]
    public void Inspect_AsUnprivilegedUser_OfRootProcess_Exits4()
    {
        using Workload w = Workload.Start("cgroup_alloc.c");

        // nobody may read the root workload's status, but not its smaps (ptrace read access).
        MemwatchCli.Result r = MemwatchCli.Run(
            ["inspect", w.Pid.ToString()],
            prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "env", "HOME=/tmp"]);

        Assert.Equal(4, r.ExitCode);
        Assert.StartsWith($"memwatch: permission denied reading /proc/{w.Pid}", r.StandardError);
        Assert.Single(r.StandardError.TrimEnd().Split('\n'));
    }
}
