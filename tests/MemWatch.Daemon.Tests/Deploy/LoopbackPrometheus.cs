using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// A real Prometheus on 127.0.0.1 with an empty TSDB and nothing to scrape: its query API is the PromQL parser the
/// dashboard's queries will meet (promtool has no offline "parse this expression").
/// </summary>
public sealed class LoopbackPrometheus : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly Process _process;
    private readonly HttpClient _http;

    public LoopbackPrometheus()
    {
        File.WriteAllText(_dir.Combine("prometheus.yml"), "global:\n  scrape_interval: 1m\n");
        int port = FreeLoopbackPort();
        var psi = new ProcessStartInfo("prometheus")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir.Path,
        };
        foreach (string a in new[]
                 {
                     "--config.file=prometheus.yml", "--storage.tsdb.path=data", $"--web.listen-address=127.0.0.1:{port}",
                     "--log.level=warn",
                 })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        var watch = Stopwatch.StartNew();
        while (!Ready())
        {
            if (_process.HasExited || watch.Elapsed > TimeSpan.FromSeconds(90))
            {
                Dispose();
                throw new InvalidOperationException("prometheus did not become ready on loopback");
            }

            Thread.Sleep(200);
        }
    }

    /// <summary>Null when Prometheus accepts the expression, else its error (e.g. "1:20: parse error: ...").</summary>
    public string? ParseError(string expression)
    {
        using var content = new FormUrlEncodedContent([new KeyValuePair<string, string>("query", expression)]);
        using HttpResponseMessage response = _http.PostAsync("api/v1/query", content).GetAwaiter().GetResult();
        using JsonDocument body = JsonDocument.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        string status = body.RootElement.GetProperty("status").GetString()!;
        return status == "success" ? null : body.RootElement.GetProperty("error").GetString();
    }

    public void Dispose()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(30_000);
        }

        _process.Dispose();
        _dir.Dispose();
    }

    private bool Ready()
    {
        try
        {
            using HttpResponseMessage r = _http.GetAsync("-/ready").GetAwaiter().GetResult();
            return r.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
