using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// /usr/bin/node running tests/workloads/runtimes/v8_target.js: a process MemWatch asks for V8's heap figures, which
/// answers <c>stats</c> with V8's own account (<c>v8.getHeapStatistics()</c>, <c>v8.getHeapSpaceStatistics()</c>) and
/// its heartbeat's counters, and serves HTTP. Dispose kills it.
/// </summary>
internal sealed class V8Target : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly ConcurrentQueue<string> _errors = new();

    private V8Target(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Add(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _errors.Enqueue(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        string ready = Next("ready", TimeSpan.FromSeconds(60));
        Port = int.Parse(ready.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    public int Pid => _process.Id;

    public int Port { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts node in <paramref name="mode"/> (<c>idle</c>, or <c>busy SECONDS</c>) and waits for it to listen.</summary>
    public static V8Target Start(params string[] mode)
    {
        var psi = new ProcessStartInfo("/usr/bin/node") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add("--max-old-space-size=512");
        psi.ArgumentList.Add(Path.Combine(RuntimeCorpus.Workloads, "v8_target.js"));
        foreach (string m in mode)
        {
            psi.ArgumentList.Add(m);
        }

        return new V8Target(Process.Start(psi)!);
    }

    /// <summary>V8's own statistics and the heartbeat's counters, as the process reports them now.</summary>
    public JsonElement Stats()
    {
        _process.StandardInput.WriteLine("stats");
        _process.StandardInput.Flush();
        return JsonDocument.Parse(Next("stats ", TimeSpan.FromSeconds(60))["stats ".Length..]).RootElement;
    }

    /// <summary>GET /ping: the event loop still serves.</summary>
    public string Ping(HttpClient http) => http.GetStringAsync(new Uri($"http://127.0.0.1:{Port}/ping")).Result;

    private string Next(string prefix, TimeSpan timeout)
    {
        long end = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (_lines.TryTake(out string? line, (int)Math.Max(1, end - Environment.TickCount64)))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new TimeoutException($"node gave no '{prefix}' line (exited: {_process.HasExited}): {string.Join(" / ", _errors)}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        _lines.Dispose();
    }
}
