using System.Diagnostics;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// The daemon reads language runtimes' heap figures passively at its smaps passes, exports them, and hands them to
/// the classifier: a real CPython whose survivors pin pymalloc's arenas, and a real JVM with -Xmx; a real Node, whose V8
/// heap an Introspect rule asks for through remote calls.
/// </summary>
public sealed class RuntimeDaemonTests
{
    private const double MiB = 1 << 20;

    [Fact]
    public void PymallocArenasAndJvmHeap_AreExportedAndClassified()
    {
        string workloads = Path.Combine(AppContext.BaseDirectory, "workloads", "runtimes");
        using Process python = Start("/usr/bin/python3", Path.Combine(workloads, "cpython_workload.py"), "pinned");
        using Process java = Start("java", "-Xmx384m", Path.Combine(workloads, "JvmWorkload.java"), "stable");
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start(config =>
            {
                config["Sampling"] = new Dictionary<string, object?>
                {
                    ["Interval"] = "00:00:01",
                    ["RollupInterval"] = "00:00:02",
                    ["SmapsInterval"] = "00:00:04",
                    ["Window"] = "00:00:30",
                };
                config["Targets"] = new object[]
                {
                    new Dictionary<string, object?> { ["Name"] = "python", ["Pid"] = python.Id },
                    new Dictionary<string, object?> { ["Name"] = "java", ["Pid"] = java.Id },
                };
            });

            string py = $"pid=\"{python.Id}\"", jvm = $"pid=\"{java.Id}\"";
            Poll.Until(
                () =>
                {
                    string m = daemon.Metrics();
                    return MetricsText.Value(m, "memwatch_runtime_heap_committed_bytes", py, "runtime=\"cpython\"") > 100 * MiB
                        && MetricsText.Value(m, "memwatch_verdict", py, "kind=\"allocator-retention\"") == 1
                        && MetricsText.Value(m, "memwatch_runtime_heap_max_bytes", jvm, "runtime=\"jvm\"") > 0
                        && MetricsText.Value(m, "memwatch_process_declared_limit_bytes", jvm, "bounds=\"heap\"") == 384 * MiB;
                },
                TimeSpan.FromSeconds(120),
                () => $"no runtime figures or verdicts for {python.Id} / {java.Id}:\n{daemon.Metrics()}\n{daemon.Output}",
                everyMilliseconds: 1000);

            JsonElement verdict = daemon.GetJson($"/api/targets/{python.Id}", out _).GetProperty("target").GetProperty("verdict");
            Assert.Equal("pymalloc-arena-pinned", verdict.GetProperty("mechanism").GetString());
        }
        finally
        {
            python.Kill();
            java.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void NodeUnderAnIntrospectRule_ItsV8HeapIsAskedExportedAndClassified()
    {
        string workloads = Path.Combine(AppContext.BaseDirectory, "workloads", "runtimes");
        using Process node = Start("/usr/bin/node", "--max-old-space-size=256", Path.Combine(workloads, "node_workload.js"), "stable");
        try
        {
            using DaemonProcess daemon = DaemonProcess.Start(config =>
            {
                config["Sampling"] = new Dictionary<string, object?>
                {
                    ["Interval"] = "00:00:01",
                    ["RollupInterval"] = "00:00:02",
                    ["SmapsInterval"] = "00:00:02",
                    ["IntrospectInterval"] = "00:00:02",
                    ["Window"] = "00:00:30",
                };
                config["Targets"] = new object[]
                {
                    new Dictionary<string, object?> { ["Name"] = "node", ["Pid"] = node.Id, ["Introspect"] = true },
                };
            });

            // V8's heap (300k objects kept: tens of MiB used) and its limit, which V8 reports above --max-old-space-size
            // (the young generation counts too); the passive reading of the smaps passes must not erase them.
            string n = $"pid=\"{node.Id}\"";
            Poll.Until(
                () =>
                {
                    string m = daemon.Metrics();
                    return MetricsText.Value(m, "memwatch_runtime_heap_used_bytes", n, "runtime=\"node\"") > 8 * MiB
                        && MetricsText.Value(m, "memwatch_runtime_heap_max_bytes", n, "runtime=\"node\"") > 256 * MiB
                        && MetricsText.Value(m, "memwatch_verdict", n, "kind=\"stable\"") == 1;
                },
                TimeSpan.FromSeconds(120),
                () => $"no V8 figures or verdict for {node.Id}:\n{daemon.Metrics()}\n{daemon.Output}",
                everyMilliseconds: 1000);

            Thread.Sleep(5000); // two more smaps passes
            Assert.True(MetricsText.Value(daemon.Metrics(), "memwatch_runtime_heap_used_bytes", n, "runtime=\"node\"") > 8 * MiB);
        }
        finally
        {
            node.Kill();
        }
    }

    /// <summary>Starts a program and waits for its "ready" line (the workloads print it once in their behaviour).</summary>
    private static Process Start(string command, params string[] args)
    {
        var psi = new ProcessStartInfo(command, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        Process p = Process.Start(psi)!;
        var ready = new TaskCompletionSource();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null || e.Data.StartsWith("ready", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        Assert.True(ready.Task.Wait(TimeSpan.FromSeconds(120)), $"{command} was not ready");
        Assert.False(p.HasExited, $"{command} exited");
        return p;
    }
}
