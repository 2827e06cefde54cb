using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// A real Prometheus on 127.0.0.1 with an empty TSDB. With nothing to scrape, its query API is the PromQL parser the
/// dashboard's queries will meet (promtool has no offline "parse this expression"); <see cref="Scraping"/> makes one
/// that scrapes a daemon and evaluates rule files, for the end-to-end alert tests.
/// </summary>
public sealed class LoopbackPrometheus : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly Process _process;
    private readonly HttpClient _http;
    private readonly System.Text.StringBuilder _log = new();

    public LoopbackPrometheus()
        : this("global:\n  scrape_interval: 1m\n", [])
    {
    }

    private LoopbackPrometheus(string configYaml, IReadOnlyList<string> ruleFiles)
    {
        foreach (string rules in ruleFiles)
        {
            File.Copy(rules, _dir.Combine(Path.GetFileName(rules)));
        }

        File.WriteAllText(_dir.Combine("prometheus.yml"), configYaml);
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
        _process.OutputDataReceived += (_, e) => AppendLog(e.Data);
        _process.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        var watch = Stopwatch.StartNew();
        while (!Ready())
        {
            if (_process.HasExited || watch.Elapsed > TimeSpan.FromSeconds(90))
            {
                Dispose();
                throw new InvalidOperationException($"prometheus did not become ready on loopback:\n{Log}");
            }

            Thread.Sleep(200);
        }
    }

    /// <summary>What Prometheus logged (warnings and errors): for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>
    /// A Prometheus that scrapes <paramref name="target"/> (ADDR:PORT) as job "memwatch" and evaluates
    /// <paramref name="ruleFiles"/> (copied unchanged into its directory), both every <paramref name="interval"/>.
    /// </summary>
    public static LoopbackPrometheus Scraping(string target, IReadOnlyList<string> ruleFiles, TimeSpan interval)
    {
        string every = ((int)Math.Max(1, interval.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) + "s";
        var yaml = new System.Text.StringBuilder();
        yaml.Append($"global:\n  scrape_interval: {every}\n  evaluation_interval: {every}\n");
        yaml.Append("rule_files:\n");
        foreach (string rules in ruleFiles)
        {
            yaml.Append($"  - '{Path.GetFileName(rules)}'\n");
        }

        yaml.Append($"scrape_configs:\n  - job_name: memwatch\n    static_configs:\n      - targets: ['{target}']\n");
        return new LoopbackPrometheus(yaml.ToString(), ruleFiles);
    }

    /// <summary>An instant query's <c>data.result</c> array; throws with Prometheus's error when it refuses.</summary>
    public JsonElement Query(string expression)
    {
        using var content = new FormUrlEncodedContent([new KeyValuePair<string, string>("query", expression)]);
        using HttpResponseMessage response = _http.PostAsync("api/v1/query", content).GetAwaiter().GetResult();
        using JsonDocument body = JsonDocument.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        if (body.RootElement.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"query {expression}: {body.RootElement.GetProperty("error").GetString()}");
        }

        return body.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    /// <summary>The active alerts (pending and firing) from <c>/api/v1/alerts</c>.</summary>
    public JsonElement Alerts()
    {
        using JsonDocument body = JsonDocument.Parse(_http.GetStringAsync("api/v1/alerts").GetAwaiter().GetResult());
        return body.RootElement.GetProperty("data").GetProperty("alerts").Clone();
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

    private void AppendLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
