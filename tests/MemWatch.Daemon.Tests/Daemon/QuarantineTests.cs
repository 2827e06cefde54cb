using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// The quarantine (docs/injection.md, safety case §2) driven by a real target: tests/workloads/jemalloc_ctl_holder.c
/// holds jemalloc's ctl_mtx for good, so the daemon's statistics call (mallctl "epoch") waits past its timeout in a
/// callee that is not lock-step and cannot be rolled back. The daemon must say so at Warning, quarantine the process
/// (API and /metrics), never call into it again, leave none of its threads stopped or traced, and keep serving.
/// </summary>
public sealed class QuarantineTests
{
    private const string Token = "quarantine-token-0123456789abcdef";
    private const int FutexSyscall = 202;

    [Fact]
    public void CallLeftInTheCallee_QuarantinedAtWarningNeverCalledAgainTargetUnharmed()
    {
        using Workload holder = Workload.Start("jemalloc_ctl_holder.c", extraFlags: "-ljemalloc");
        using Workload control = Workload.Start("paced_leak.c");
        Assert.StartsWith("OK", control.Send("leak 256"), StringComparison.Ordinal);
        int pid = holder.Pid;
        string pidText = pid.ToString(CultureInfo.InvariantCulture);
        Assert.Empty(ThreadsInFutex(pid));

        using DaemonProcess daemon = DaemonProcess.Start(
            config =>
            {
                config["Sampling"] = TestConfig.FastSampling();
                config["Targets"] = new object[]
                {
                    new Dictionary<string, object?> { ["Name"] = "holder", ["Pid"] = pid, ["AllowActions"] = true, ["Introspect"] = true },
                    new Dictionary<string, object?> { ["Name"] = "control", ["Pid"] = control.Pid, ["Introspect"] = true },
                };
            },
            tokenFileContent: Token);

        string? why = null;
        Poll.Until(
            () => (why = Quarantine(daemon.GetJson($"/api/targets/{pid}", out _).GetProperty("target"))) is not null,
            TimeSpan.FromSeconds(180), () => $"{pid} never quarantined:\n{daemon.Output}");
        Assert.Contains("could not be rolled back", why, StringComparison.Ordinal);
        daemon.AssertLogged($"quarantined {pidText} (");
        string warning = daemon.Output.Split('\n').First(l => l.Contains($"quarantined {pidText} (", StringComparison.Ordinal));
        Assert.Contains(" WRN ", warning, StringComparison.Ordinal);

        string metrics = daemon.Metrics();
        Assert.Equal(1, MetricsText.Value(metrics, "memwatch_process_injection_quarantined", $"pid=\"{pidText}\""));
        Assert.Null(MetricsText.Value(metrics, "memwatch_process_injection_quarantined", $"pid=\"{control.Pid.ToString(CultureInfo.InvariantCulture)}\""));
        double? errors = MetricsText.Value(metrics, "memwatch_sample_errors_total", "introspection_failed");

        // The call was left in the callee: exactly one thread waits for ctl_mtx inside mallctl, released by the tracer.
        int left = int.Parse(Regex.Match(why!, @"thread (\d+) of process").Groups[1].Value, CultureInfo.InvariantCulture);
        int[] stuck = ThreadsInFutex(pid);
        Assert.Equal([left], stuck);
        Assert.Null(ThreadsHeld(pid));

        // An API trim is refused without a call.
        (HttpStatusCode status, JsonElement trim) = daemon.Post($"/api/targets/{pid}/trim", token: Token);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("refused", trim.GetProperty("error").GetString());
        Assert.StartsWith("quarantined: MemWatch no longer acts on this process", trim.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // No call into it again: while the remediator introspects the control target (same loop, same interval) four
        // more times, no thread of the holder is ever traced (a call would keep one seized for its whole 5 s timeout)
        // and no other thread joins the one left waiting.
        var seen = new HashSet<ulong>();
        var traced = new List<string>();
        Poll.Until(
            () =>
            {
                if (ThreadsHeld(pid) is string held)
                {
                    traced.Add(held);
                }

                if (daemon.GetJson($"/api/targets/{control.Pid}", out _).GetProperty("target").TryGetProperty("allocatorInUseBytes", out JsonElement inUse)
                    && inUse.ValueKind == JsonValueKind.Number)
                {
                    seen.Add(inUse.GetUInt64());
                }

                return seen.Count >= 5;
            },
            TimeSpan.FromSeconds(180), () => $"the control target was introspected {seen.Count} times:\n{daemon.Output}", everyMilliseconds: 50);
        Assert.Empty(traced);
        Assert.Equal(stuck, ThreadsInFutex(pid));
        Assert.Equal(errors, MetricsText.Value(daemon.Metrics(), "memwatch_sample_errors_total", "introspection_failed"));
        Assert.Single(daemon.Output.Split('\n'), l => l.Contains($"quarantined {pidText} (", StringComparison.Ordinal));

        // The target lives on and its threads run; the daemon still serves.
        Assert.False(holder.HasExited);
        Assert.Null(ThreadsHeld(pid));
        Assert.False(daemon.HasExited);
        daemon.Get("/healthz", out HttpStatusCode health);
        Assert.Equal(HttpStatusCode.OK, health);
        daemon.GetJson($"/api/targets/{pid}", out HttpStatusCode detail);
        Assert.Equal(HttpStatusCode.OK, detail);
    }

    [Fact]
    public void TrimLeftInTheCallee_QuarantinedTheNextTrimRefusedWithoutACall()
    {
        using Workload holder = Workload.Start("jemalloc_ctl_holder.c", extraFlags: "-ljemalloc");
        int pid = holder.Pid;
        string pidText = pid.ToString(CultureInfo.InvariantCulture);
        using DaemonProcess daemon = DaemonProcess.Start(
            config =>
            {
                config["Sampling"] = TestConfig.FastSampling();
                config["Targets"] = new object[]
                {
                    new Dictionary<string, object?> { ["Name"] = "holder", ["Pid"] = pid, ["AllowActions"] = true },
                };
            },
            tokenFileContent: Token);
        daemon.GetJson($"/api/targets/{pid}", out HttpStatusCode known);
        Assert.Equal(HttpStatusCode.OK, known);

        // mallctl("arena.4096.purge") waits for ctl_mtx past the trim's timeout (30 s).
        (HttpStatusCode status, JsonElement trim) = daemon.Post($"/api/targets/{pid}/trim", token: Token);
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("timeout", trim.GetProperty("outcome").GetString());
        string message = trim.GetProperty("message").GetString()!;
        Assert.Contains("could not be rolled back", message, StringComparison.Ordinal);
        int left = int.Parse(Regex.Match(message, @"thread (\d+) of process").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal([left], ThreadsInFutex(pid));
        Assert.Null(ThreadsHeld(pid));
        daemon.AssertLogged($"quarantined {pidText} (");
        Assert.Equal(message, Quarantine(daemon.GetJson($"/api/targets/{pid}", out _).GetProperty("target")));
        Assert.Equal(1, MetricsText.Value(daemon.Metrics(), "memwatch_process_injection_quarantined", $"pid=\"{pidText}\""));

        // The next trim is refused before any call: nothing traced while it is answered, no other thread left waiting.
        using var watching = new CancellationTokenSource();
        var traced = new List<string>();
        Thread watcher = new(() =>
        {
            while (!watching.IsCancellationRequested)
            {
                if (ThreadsHeld(pid) is string held)
                {
                    traced.Add(held);
                }

                Thread.Sleep(5);
            }
        });
        watcher.Start();
        (status, trim) = daemon.Post($"/api/targets/{pid}/trim", token: Token);
        watching.Cancel();
        watcher.Join();
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.StartsWith("quarantined: ", trim.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(traced);
        Assert.Equal([left], ThreadsInFutex(pid));
        Assert.False(holder.HasExited);
        Assert.False(daemon.HasExited);
        daemon.Get("/healthz", out HttpStatusCode health);
        Assert.Equal(HttpStatusCode.OK, health);
    }

    private static string? Quarantine(JsonElement target) =>
        target.ValueKind == JsonValueKind.Object && target.TryGetProperty("quarantine", out JsonElement q) && q.ValueKind == JsonValueKind.String
            ? q.GetString()
            : null;

    /// <summary>The threads of <paramref name="pid"/> blocked in futex (syscall 202), sorted.</summary>
    private static int[] ThreadsInFutex(int pid) =>
        [.. Directory.EnumerateDirectories($"/proc/{pid}/task")
            .Select(d => (Tid: int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture), Syscall: Read(Path.Combine(d, "syscall"))))
            .Where(t => t.Syscall.Split(' ')[0] == FutexSyscall.ToString(CultureInfo.InvariantCulture))
            .Select(t => t.Tid)
            .Order()];

    /// <summary>Null when every thread of <paramref name="pid"/> is untraced and not stopped; otherwise which is not.</summary>
    private static string? ThreadsHeld(int pid)
    {
        foreach (string dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            string status = Read(Path.Combine(dir, "status"));
            string tracer = Field(status, "TracerPid:");
            string state = Field(status, "State:");
            if ((tracer != "0" && tracer != "") || state.StartsWith('t') || state.StartsWith('T'))
            {
                return $"thread {Path.GetFileName(dir)} is {state} with tracer {tracer}";
            }
        }

        return null;
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return ""; // the thread exited
        }
    }

    private static string Field(string status, string key) =>
        status.Split('\n').FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?[key.Length..].Trim() ?? "";
}
