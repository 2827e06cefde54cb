using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MemWatch.Daemon.Tests.Support;

/// <summary>
/// A real <c>memwatch run</c> (the published executable, see <see cref="MemwatchCli"/>) on a free loopback port, with a
/// temporary config file and state directory. Dispose stops it (SIGKILL if it is still running) and removes the directory.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DaemonProcess(Process process, string directory, int port, string? token)
    {
        _process = process;
        Directory = directory;
        Port = port;
        Token = token;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Directory { get; }

    /// <summary>The bearer token the daemon was given, sent with every GET; null when it has none (then the test
    /// configuration opens the /api reads with Auth.AnonymousReads unless the test set Auth itself).</summary>
    public string? Token { get; }

    public int Port { get; }

    public int Pid => _process.Id;

    public HttpClient Http { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>A config document with Listen and StateDirectory filled in; <paramref name="configure"/> adds the rest.</summary>
    /// <remarks>
    /// The port is free when chosen but only bound when the daemon starts, seconds later; if something took it meanwhile
    /// (the daemon exits with "cannot listen on"), the start is retried on another port, up to three times, unless the
    /// test chose the listen address itself.
    /// </remarks>
    /// <param name="prefix">A command and its arguments to run memwatch under (e.g. a sandbox), if any.</param>
    /// <param name="arguments">More arguments of <c>memwatch run</c>, after <c>--config FILE</c>.</param>
    public static DaemonProcess Start(
        Action<Dictionary<string, object?>> configure, IDictionary<string, string>? environment = null, bool waitReady = true,
        string? tokenFileContent = null, IReadOnlyList<string>? prefix = null, IReadOnlyList<string>? arguments = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            DaemonProcess daemon = StartOnce(configure, environment, tokenFileContent, prefix ?? [], arguments ?? [], out bool ownListen);
            if (!waitReady)
            {
                return daemon;
            }

            try
            {
                daemon.WaitReady(TimeSpan.FromSeconds(90));
                return daemon;
            }
            catch (InvalidOperationException) when (attempt < 3 && ownListen && daemon.WaitForExit(TimeSpan.FromSeconds(5))
                && daemon.Output.Contains("cannot listen on", StringComparison.Ordinal))
            {
                daemon.Dispose();
            }
        }
    }

    private static DaemonProcess StartOnce(
        Action<Dictionary<string, object?>> configure, IDictionary<string, string>? environment, string? tokenFileContent,
        IReadOnlyList<string> prefix, IReadOnlyList<string> arguments, out bool ownListen)
    {
        string dir = Path.Combine(Path.GetTempPath(), "memwatch-daemon-tests", Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(dir);
        int port = FreePort();
        var config = new Dictionary<string, object?>
        {
            ["Listen"] = $"127.0.0.1:{port}",
            ["StateDirectory"] = Path.Combine(dir, "state"),
            ["Logging"] = new Dictionary<string, object?> { ["Level"] = "Debug" },
        };
        if (tokenFileContent is not null)
        {
            string tokenFile = Path.Combine(dir, "token");
            File.WriteAllText(tokenFile, tokenFileContent + "\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            config["Auth"] = new Dictionary<string, object?> { ["TokenFile"] = tokenFile };
        }
        else
        {
            config["Auth"] = new Dictionary<string, object?> { ["AnonymousReads"] = true, ["AnonymousCommandLines"] = true };
        }

        configure(config);
        ownListen = Equals(config["Listen"], $"127.0.0.1:{port}");
        string configPath = Path.Combine(dir, "memwatch.json");
        File.WriteAllText(configPath, JsonSerializer.Serialize(config));

        List<string> command = [.. prefix, MemwatchCli.ExecutablePath, "run"];
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(configPath);
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("NOTIFY_SOCKET");
        psi.Environment.Remove("WATCHDOG_USEC");
        if (environment is not null)
        {
            foreach ((string k, string v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        Process process = Process.Start(psi)!;
        var daemon = new DaemonProcess(process, dir, port, tokenFileContent);
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    public void WaitReady(TimeSpan timeout)
    {
        Poll.Until(() =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"memwatch run exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using HttpResponseMessage r = Http.GetAsync("/readyz").Result;
                return r.StatusCode == HttpStatusCode.OK;
            }
            catch (AggregateException)
            {
                return false;
            }
        }, timeout, () => $"memwatch run did not become ready:\n{Output}");
    }

    public string Get(string path, out HttpStatusCode status, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (Token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Token);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using HttpResponseMessage response = Http.Send(request);
        status = response.StatusCode;
        return response.Content.ReadAsStringAsync().Result;
    }

    public string Metrics(string? accept = null)
    {
        string body = Get("/metrics", out HttpStatusCode status, accept);
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    public (HttpStatusCode Status, JsonElement Body) Post(string path, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        using HttpResponseMessage response = Http.Send(request);
        string text = response.Content.ReadAsStringAsync().Result;
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public JsonElement GetJson(string path, out HttpStatusCode status) =>
        JsonDocument.Parse(Get(path, out status)).RootElement.Clone();

    /// <summary>
    /// Asserts that the daemon logged <paramref name="text"/>, waiting for it: a line the daemon logged before the event
    /// the test saw over HTTP can still be on its way through the asynchronous output readers (late when the thread pool
    /// is busy).
    /// </summary>
    public void AssertLogged(string text, TimeSpan? timeout = null) =>
        Poll.Until(() => Output.Contains(text, StringComparison.Ordinal), timeout ?? TimeSpan.FromSeconds(30), () => $"'{text}' not logged:\n{Output}");

    /// <summary>
    /// Waits for the exit and for the last line of its output: <see cref="HasExited"/> can be true while the
    /// asynchronous readers have not yet delivered what the process wrote just before it exited.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }

        _process.WaitForExit();
        return true;
    }

    /// <summary>Sends SIGTERM and waits for the exit; returns how long it took.</summary>
    public TimeSpan Terminate(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            kill.WaitForExit();
        }

        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"memwatch run did not exit within {timeout} of SIGTERM:\n{Output}");
        }

        _process.WaitForExit();
        return sw.Elapsed;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public void Dispose()
    {
        Http.Dispose();
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
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
