using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>What the program's own figures must do over the watch for the scenario to be what it claims.</summary>
internal enum Truth
{
    /// <summary>The figure grows by at least 8 MiB (or 8 units for counts) over the watch.</summary>
    Grows,

    /// <summary>The figure ends within 16 MiB (or 4 units) of where it started.</summary>
    Holds,
}

/// <summary>
/// Runs one scenario of the runtime corpus: <c>memwatch inspect PID --json --watch 20</c> and the same with
/// <c>--introspect</c>, at the same time on the same process (introspection pauses the target for milliseconds at
/// each end of the window, which the passive watch does not notice), then checks the program's own figure against
/// the scenario's truth and both verdicts against the accepted kinds. Each outcome is appended to
/// $MEMWATCH_RUNTIME_TABLE when set (docs/verdicts.md's accuracy table).
/// </summary>
internal static class RuntimeCorpus
{
    public const int WatchSeconds = 20;

    public static string Workloads => Path.Combine(AppContext.BaseDirectory, "workloads", "runtimes");

    public static void Run(ITestOutputHelper output, string scenario, RuntimeProgram program, int targetPid, string figure, Truth truth,
        string[] accepted, string? mechanism = null, string? introspectedSource = null)
    {
        program.WaitReady(TimeSpan.FromSeconds(180));

        // Past start-up: the watch sees the behaviour, not the interpreter loading.
        Thread.Sleep(3000);
        long since = Environment.TickCount64;
        string pid = targetPid.ToString(CultureInfo.InvariantCulture);
        Task<MemwatchCli.Result> passive = Task.Run(() => MemwatchCli.Run(["inspect", pid, "--json", "--watch", "20"], TimeSpan.FromSeconds(180)));
        Task<MemwatchCli.Result> introspected = Task.Run(() => MemwatchCli.Run(["inspect", pid, "--json", "--watch", "20", "--introspect"], TimeSpan.FromSeconds(180)));
        (string passiveKind, string? passiveMechanism, string passiveSummary, _) = Verdict(passive.Result);
        (string introspectedKind, string? introspectedMechanism, string introspectedSummary, string? source) = Verdict(introspected.Result);
        (double first, double last, int count) = program.Figure(figure, since);

        string line = string.Create(CultureInfo.InvariantCulture,
            $"{scenario}\t{string.Join("|", accepted)}{(mechanism is null ? "" : "/" + mechanism)}\t{passiveKind}/{passiveMechanism ?? "-"}\t{introspectedKind}/{introspectedMechanism ?? "-"}\t{figure} {first:0} -> {last:0}");
        output.WriteLine(line);
        output.WriteLine("passive: " + passiveSummary);
        output.WriteLine("introspected: " + introspectedSummary);
        if (Environment.GetEnvironmentVariable("MEMWATCH_RUNTIME_TABLE") is { Length: > 0 } table)
        {
            File.AppendAllText(table, line + "\n");
        }

        Assert.True(count >= 2, $"the program reported {figure} {count} times during the watch");
        double delta = last - first;
        bool bytes = Math.Max(Math.Abs(first), Math.Abs(last)) > 1 << 20;
        if (truth == Truth.Grows)
        {
            Assert.True(delta >= (bytes ? 8 << 20 : 8), $"ground truth: {figure} should grow, went {first} -> {last}");
        }
        else
        {
            Assert.True(Math.Abs(delta) <= (bytes ? 16 << 20 : 4), $"ground truth: {figure} should hold, went {first} -> {last}");
        }

        Assert.Contains(passiveKind, accepted);
        Assert.Contains(introspectedKind, accepted);
        if (introspectedSource is not null)
        {
            Assert.Equal(introspectedSource, source);
        }

        if (mechanism is not null)
        {
            Assert.Equal(mechanism, passiveMechanism);
            Assert.Equal(mechanism, introspectedMechanism);
        }
    }

    /// <summary>The verdict's kind, mechanism and text, and where the runtime's figures came from (null when none).</summary>
    private static (string Kind, string? Mechanism, string Summary, string? RuntimeSource) Verdict(MemwatchCli.Result r)
    {
        Assert.True(r.ExitCode == 0, $"memwatch exited {r.ExitCode}: {r.StandardError}");
        using JsonDocument doc = JsonDocument.Parse(r.StandardOutput);
        JsonElement v = doc.RootElement.GetProperty("verdict");
        JsonElement rt = doc.RootElement.GetProperty("runtime");
        string runtime = rt.ValueKind == JsonValueKind.Object
            ? $" [runtime {rt.GetProperty("name").GetString()}: used {rt.GetProperty("usedBytes")}, committed {rt.GetProperty("committedBytes")}, problem {rt.GetProperty("problem")}]"
            : "";
        return (v.GetProperty("kind").GetString()!, v.GetProperty("mechanism").GetString(),
            v.GetProperty("summary").GetString() + " | " + string.Join(" | ", v.GetProperty("evidence").EnumerateArray().Select(e => e.GetString())) + runtime,
            rt.ValueKind == JsonValueKind.Object ? rt.GetProperty("source").GetString() : null);
    }

    /// <summary>Builds the Go workload once per source (go build at test time, in a cache of its own).</summary>
    public static string BuildGo()
    {
        lock (s_goLock)
        {
            string src = Path.Combine(Workloads, "go_workload.go");
            string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(src)))[..16];
            string dir = Path.Combine(Path.GetTempPath(), "memwatch-workloads", "go-" + hash);
            string exe = Path.Combine(dir, "go_workload");
            if (!File.Exists(exe))
            {
                Directory.CreateDirectory(dir);
                var psi = new ProcessStartInfo("go", ["build", "-o", exe, src]) { RedirectStandardError = true, UseShellExecute = false };
                psi.Environment["GOCACHE"] = Path.Combine(dir, "cache");
                psi.Environment["GOPATH"] = Path.Combine(dir, "path");
                psi.Environment["GO111MODULE"] = "off";
                using Process p = Process.Start(psi)!;
                string err = p.StandardError.ReadToEnd();
                p.WaitForExit();
                Assert.True(p.ExitCode == 0, "go build failed: " + err);
            }

            return exe;
        }
    }

    private static readonly Lock s_goLock = new();
}
