using System.Text.Json;
using MemWatch.IntegrationTests.Support;

namespace MemWatch.IntegrationTests.Cli;

/// <summary>`memwatch trim` run as a real process against real workloads and real allocators.</summary>
public sealed class TrimCliTests
{
    private const long MiB = 1024 * 1024;

    private static readonly string[] s_unprivileged = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "env", "HOME=/tmp"];

    [Fact]
    public void Trim_GlibcSeed256MiBFreed_JsonReportsReleaseAndRssDrops()
    {
        using Workload w = Workload.Start("seed.cc");
        w.Send("fill 256");
        w.Send("drop");
        long rssBefore = ProcessMemory.RssBytes(w.Pid);

        MemwatchCli.Result r = MemwatchCli.Run(["trim", w.Pid.ToString(), "--json"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Equal("", r.StandardError);
        long rssAfter = ProcessMemory.RssBytes(w.Pid);
        Assert.True(rssBefore - rssAfter > 200 * MiB, $"RSS seen by the test {rssBefore} -> {rssAfter}");

        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement root = doc.RootElement;
        Assert.Equal(w.Pid, root.GetProperty("pid").GetInt32());
        Assert.Equal("seed", root.GetProperty("command").GetString());
        Assert.Equal("glibc", root.GetProperty("allocator").GetString());
        Assert.Equal("released", root.GetProperty("result").GetString());
        Assert.Equal(1, root.GetProperty("returnValue").GetInt64());
        long before = root.GetProperty("rssBeforeBytes").GetInt64();
        long after = root.GetProperty("rssAfterBytes").GetInt64();
        long released = root.GetProperty("releasedBytes").GetInt64();
        Assert.Equal(before - after, released);
        Assert.True(released > 200 * MiB, root.ToString());

        // The trim model's prediction, made before the call, matches what the kernel then saw go.
        long predicted = root.GetProperty("predictedReleasableBytes").GetInt64();
        Assert.InRange(released, predicted * 0.9, predicted * 1.1);
        Assert.Equal(predicted, root.GetProperty("before").GetProperty("releasableBytes").GetInt64());
        Assert.True(root.GetProperty("before").GetProperty("freeBytes").GetInt64() > 200 * MiB);
        Assert.Equal(1, root.GetProperty("before").GetProperty("arenas").GetInt32());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("after").ValueKind);

        long pause = root.GetProperty("pauseMicroseconds").GetInt64();
        long callee = root.GetProperty("calleeMicroseconds").GetInt64();
        Assert.True(callee > 0 && pause >= callee, $"pause {pause} µs, callee {callee} µs");
        string[] steps = root.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step").GetString()!).ToArray();
        Assert.Equal(["statistics-before", "release", "statistics-after"], steps);
        foreach (JsonElement s in root.GetProperty("steps").EnumerateArray())
        {
            Assert.True(s.GetProperty("calls").GetInt32() >= 1);
            Assert.True(s.GetProperty("pauseMicroseconds").GetInt64() > 0, s.ToString());
            Assert.True(s.GetProperty("pauseMicrosecondsTotal").GetInt64() >= s.GetProperty("pauseMicroseconds").GetInt64());
        }

        Assert.Empty(root.GetProperty("warnings").EnumerateArray());
        Assert.Equal("OK", w.Send("drop")[..2]);
    }

    [Fact]
    public void Trim_Text_SaysWhatTheAllocatorSaidAndThePauses()
    {
        using Workload w = Workload.Start("seed.cc");
        w.Send("fill 32");
        w.Send("drop");

        MemwatchCli.Result r = MemwatchCli.Run(["trim", w.Pid.ToString()]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains($"pid {w.Pid}  seed  allocator glibc", r.StandardOutput);
        Assert.Contains("trim     released: malloc_trim(0) returned 1", r.StandardOutput);
        Assert.Contains("RSS      ", r.StandardOutput);
        Assert.Contains("pause    release: 1 call, longest ", r.StandardOutput);
        Assert.Equal("", r.StandardError);
    }

    [Fact]
    public void Trim_Twice_SecondSaysNothingWasReleased()
    {
        using Workload w = Workload.Start("seed.cc");
        w.Send("fill 32");
        w.Send("drop");
        Assert.Equal(0, MemwatchCli.Run(["trim", w.Pid.ToString()]).ExitCode);

        MemwatchCli.Result r = MemwatchCli.Run(["trim", w.Pid.ToString(), "--json"]);

        // glibc's malloc_trim returns 1 whenever it madvises any free page, even pages already returned;
        // either way the report must say plainly that RSS did not move.
        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        Assert.Contains(doc.RootElement.GetProperty("result").GetString(), new[] { "released", "nothing-released" });
        Assert.InRange(doc.RootElement.GetProperty("releasedBytes").GetInt64(), -4 * MiB, 4 * MiB);
    }

    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "jemalloc")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4", "tcmalloc")]
    public void Trim_PreloadedAllocator_RequestedAndRssDrops(string library, string allocator)
    {
        using Workload w = Workload.Start("seed.cc", environment: new Dictionary<string, string> { ["LD_PRELOAD"] = library });
        w.Send("fill 256");
        w.Send("drop");

        MemwatchCli.Result r = MemwatchCli.Run(["trim", w.Pid.ToString(), "--json"]);

        Assert.True(r.ExitCode == 0, r.StandardError);
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement root = doc.RootElement;
        Assert.Equal(allocator, root.GetProperty("allocator").GetString());
        Assert.Equal("requested", root.GetProperty("result").GetString());
        Assert.Contains("does not say how much", root.GetProperty("message").GetString());

        // jemalloc's decay may purge part of it on its own before the call: judge against the allocator's own figure.
        long predicted = root.GetProperty("predictedReleasableBytes").GetInt64();
        Assert.True(predicted > 64 * MiB, root.ToString());
        Assert.True(root.GetProperty("releasedBytes").GetInt64() > predicted / 2, root.ToString());
        Assert.True(root.GetProperty("after").GetProperty("releasableBytes").GetInt64() < predicted / 4, root.ToString());
        Assert.Equal("OK", w.Send("drop")[..2]);
    }

    [Fact]
    public void Trim_StaticBinary_Exits6SayingWhy()
    {
        using Workload w = Workload.Start("cgroup_alloc.c", extraFlags: "-static");

        MemwatchCli.Result r = MemwatchCli.Run(["trim", w.Pid.ToString()]);

        Assert.Equal(6, r.ExitCode);
        Assert.Equal("", r.StandardOutput);
        string line = Assert.Single(r.StandardError.TrimEnd().Split('\n'));
        Assert.StartsWith($"memwatch: cannot trim process {w.Pid}: allocator unknown is not supported: ", line);
        Assert.Contains("statically linked", line);
        Assert.Equal("OK", w.Send("alloc 1")[..2]);
    }

    [Fact]
    public void Trim_VanishedProcess_Exits3()
    {
        int pid;
        using (Workload w = Workload.Start("cgroup_alloc.c"))
        {
            pid = w.Pid;
        }

        MemwatchCli.Result r = MemwatchCli.Run(["trim", pid.ToString()]);

        Assert.Equal(3, r.ExitCode);
        Assert.Equal($"memwatch: no such process: {pid}", r.StandardError.TrimEnd());
        Assert.Equal("", r.StandardOutput);
    }

    [Fact]
    public void Trim_AsUnprivilegedUser_OfRootProcess_Exits4()
    {
        using Workload w = Workload.Start("seed.cc");

        MemwatchCli.Result r = MemwatchCli.Run(["trim", w.Pid.ToString()], prefix: s_unprivileged);

        Assert.Equal(4, r.ExitCode);
        string line = Assert.Single(r.StandardError.TrimEnd().Split('\n'));
        Assert.StartsWith($"memwatch: permission denied reading /proc/{w.Pid}/maps", line);
        Assert.Equal("", r.StandardOutput);
        Assert.Equal("OK", w.Send("drop")[..2]);
    }

    [Fact]
    public void Trim_ProcessTracedByGdb_Exits5AndLeavesItToGdb()
    {
        using Workload w = Workload.Start("seed.cc");
        var psi = new System.Diagnostics.ProcessStartInfo("gdb")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string a in new[] { "-nx", "-q", "-batch", "-p", w.Pid.ToString(), "-ex", "shell read line" })
        {
            psi.ArgumentList.Add(a);
        }

        using System.Diagnostics.Process gdb = System.Diagnostics.Process.Start(psi)!;
        try
        {
            // Poll until gdb has attached (TracerPid set), however long symbol loading takes on a loaded machine.
            long until = Environment.TickCount64 + 60_000;
            while (TracerPid(w.Pid) == 0)
            {
                Assert.True(Environment.TickCount64 < until, "gdb did not attach within 60 s");
                Thread.Sleep(50);
            }

            MemwatchCli.Result r = MemwatchCli.Run(["trim", w.Pid.ToString()]);

            Assert.Equal(5, r.ExitCode);
            string line = Assert.Single(r.StandardError.TrimEnd().Split('\n'));
            Assert.StartsWith($"memwatch: cannot trim process {w.Pid}: ", line);
            Assert.Contains("traced", line);
        }
        finally
        {
            gdb.StandardInput.WriteLine();
            gdb.StandardInput.Close();
            if (!gdb.WaitForExit(30_000))
            {
                gdb.Kill();
            }
        }

        Assert.Equal("OK", w.Send("drop")[..2]);
    }

    private static int TracerPid(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("TracerPid:", StringComparison.Ordinal))
            {
                return int.Parse(line[10..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    [Fact]
    public void Help_TrimListsItsExitCodes_InspectSaysIntrospectIsTheOnlyInjection()
    {
        MemwatchCli.Result trim = MemwatchCli.Run(["trim", "--help"]);
        MemwatchCli.Result inspect = MemwatchCli.Run(["inspect", "--help"]);
        MemwatchCli.Result root = MemwatchCli.Run(["--help"]);

        Assert.Equal(0, trim.ExitCode);
        foreach (string code in new[] { "0 released", "3 no such process", "4 permission denied", "5 refused as unsafe", "6 allocator not supported" })
        {
            Assert.Contains(code, trim.StandardOutput);
        }

        Assert.Contains("--timeout", trim.StandardOutput);
        Assert.Contains("--introspect", inspect.StandardOutput);
        Assert.Contains("Without this option nothing is injected", inspect.StandardOutput);
        Assert.Contains("trim <pid>", root.StandardOutput);
        Assert.Contains("6 allocator not supported", root.StandardOutput);
    }

    [Theory]
    [InlineData("trim")]
    [InlineData("trim", "abc")]
    [InlineData("trim", "1", "--timeout", "0")]
    [InlineData("trim", "1", "--timeout", "never")]
    public void Trim_BadUsage_Exits2WithOneLine(params string[] args)
    {
        MemwatchCli.Result r = MemwatchCli.Run(args);

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("memwatch: ", Assert.Single(r.StandardError.TrimEnd().Split('\n')));
    }
}
