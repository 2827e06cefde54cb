using System.Globalization;
using System.Text.Json;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// /usr/bin/node running tests/workloads/runtimes/v8_target.js, as a grandchild (see <see cref="Workload.Start"/>: the
/// tests trace it): a process MemWatch asks for V8's heap figures, which answers <c>stats</c> with V8's own account
/// (<c>v8.getHeapStatistics()</c>, <c>v8.getHeapSpaceStatistics()</c>) and its heartbeat's counters, and serves HTTP.
/// </summary>
internal sealed class V8Target : IDisposable
{
    private readonly Workload _workload;

    private V8Target(Workload workload)
    {
        _workload = workload;
        Port = int.Parse(workload.ReadyLine.Split(' ')[1], CultureInfo.InvariantCulture);
    }

    public int Pid => _workload.Pid;

    public int Port { get; }

    /// <summary>True once node exited (the shell that waits for it is gone too).</summary>
    public bool HasExited => _workload.HasExited || !Directory.Exists($"/proc/{Pid}");

    /// <summary>Starts node in <paramref name="mode"/> (<c>idle</c>, or <c>busy SECONDS</c>) and waits for it to listen.</summary>
    public static V8Target Start(string mode) =>
        new(Workload.StartExecutable("/usr/bin/node", $"--max-old-space-size=512 \"{Path.Combine(RuntimeCorpus.Workloads, "v8_target.js")}\" {mode}", label: "v8_target.js"));

    /// <summary>V8's own statistics and the heartbeat's counters, as the process reports them now.</summary>
    public JsonElement Stats()
    {
        string line = _workload.Send("stats");
        return line.StartsWith("stats ", StringComparison.Ordinal)
            ? JsonDocument.Parse(line["stats ".Length..]).RootElement
            : throw new InvalidOperationException($"node answered '{line}' to stats");
    }

    /// <summary>GET /ping: the event loop still serves.</summary>
    public string Ping(HttpClient http) => http.GetStringAsync(new Uri($"http://127.0.0.1:{Port}/ping")).Result;

    public void Dispose() => _workload.Dispose();
}
