using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>sd_notify on a test socket (path and abstract), SIGTERM, and configuration errors at start.</summary>
public sealed class LifecycleTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NotifiesReadyAndWatchdogThenStopsOnSigterm(bool abstractName)
    {
        string dir = Directory.CreateTempSubdirectory("memwatch-notify-").FullName;
        try
        {
            string name = abstractName ? "@memwatch-test-" + Guid.NewGuid().ToString("N") : Path.Combine(dir, "notify.sock");
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(abstractName ? "\0" + name[1..] : name));
            socket.ReceiveTimeout = 1000;

            using DaemonProcess daemon = DaemonProcess.Start(
                config => config["Sampling"] = new Dictionary<string, object?> { ["Interval"] = "00:00:01" },
                new Dictionary<string, string> { ["NOTIFY_SOCKET"] = name, ["WATCHDOG_USEC"] = "1000000" });

            var messages = new List<string>();
            Poll.Until(() =>
            {
                messages.AddRange(Receive(socket));
                return messages.Any(m => m.Contains("READY=1", StringComparison.Ordinal))
                    && messages.Count(m => m.Contains("WATCHDOG=1", StringComparison.Ordinal)) >= 2;
            }, TimeSpan.FromSeconds(60), () => $"received: {string.Join(" | ", messages)}\n{daemon.Output}", 10);

            // READY comes first, only after the listener answers and a sample was taken.
            Assert.Contains("READY=1", messages[0]);
            Assert.Contains("STATUS=watching", messages[0]);

            TimeSpan took = daemon.Terminate(TimeSpan.FromSeconds(30));
            Assert.Equal(0, daemon.ExitCode);
            Assert.True(took < TimeSpan.FromSeconds(10), $"SIGTERM to exit took {took}");
            messages.AddRange(Receive(socket));
            Assert.Contains(messages, m => m.Contains("STOPPING=1", StringComparison.Ordinal));
            daemon.AssertLogged("memwatch stopped");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void APortInUseEndsTheDaemonWithAClearMessageAndExitCode1()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;

        // The test chose the address, so DaemonProcess does not retry on another port: the failure reaches the test.
        using DaemonProcess daemon = DaemonProcess.Start(c => c["Listen"] = $"127.0.0.1:{port}", waitReady: false);
        Assert.Throws<InvalidOperationException>(() => daemon.WaitReady(TimeSpan.FromSeconds(60)));
        Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, daemon.ExitCode);
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", daemon.Output);
    }

    [Fact]
    public void BadConfigurationExitsWithUsageErrorsOneLineEach()
    {
        string dir = Directory.CreateTempSubdirectory("memwatch-config-").FullName;
        try
        {
            string path = Path.Combine(dir, "bad.json");
            File.WriteAllText(path, """
                {
                  "Listen": "127.0.0.1:99999",
                  "Sampling": { "Interval": "00:00:00.010" },
                  "Targets": [ { "Name": "x", "Comm": "([", "Remediation": { "Trim": { "Enabled": true } } } ]
                }
                """);
            var result = MemwatchCli.Run(["run", "--config", path]);
            Assert.Equal(2, result.ExitCode);
            string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(lines, l => l.Contains("Listen port", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("Sampling.Interval", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("Targets[0].Comm is not a valid regular expression", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("needs Targets[0].AllowActions", StringComparison.Ordinal));
            Assert.All(lines, l => Assert.StartsWith("memwatch: config: ", l));

            File.WriteAllText(path, """{ "Sampling": { "Intreval": "00:00:05" } }""");
            result = MemwatchCli.Run(["run", "--config", path]);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("Intreval", result.StandardError);

            File.WriteAllText(path, """{ "Listen": """);
            result = MemwatchCli.Run(["run", "--config", path]);
            Assert.Equal(2, result.ExitCode);
            Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));

            result = MemwatchCli.Run(["run", "--config", Path.Combine(dir, "missing.json")]);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("does not exist", result.StandardError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AFloodGets429sAndTheDaemonKeepsServing()
    {
        using DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            config["Targets"] = new object[]
            {
                new Dictionary<string, object?> { ["Name"] = "self", ["Pid"] = Environment.ProcessId, ["AllowActions"] = true },
            };
            config["Logging"] = new Dictionary<string, object?> { ["Format"] = "json", ["Level"] = "Information" };
        });

        int ok = 0, limited = 0, other = 0;
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 16 }, _ =>
        {
            daemon.Get("/api/targets", out HttpStatusCode status);
            switch (status)
            {
                case HttpStatusCode.OK: Interlocked.Increment(ref ok); break;
                case HttpStatusCode.TooManyRequests: Interlocked.Increment(ref limited); break;
                default: Interlocked.Increment(ref other); break;
            }
        });

        Assert.True(ok >= 40, $"{ok} answered");
        Assert.True(limited > 0, $"no 429 in 400 requests ({ok} ok)");
        Assert.Equal(0, other);
        daemon.Get("/healthz", out HttpStatusCode health);
        Assert.Equal(HttpStatusCode.OK, health);
        Assert.Contains("memwatch_targets 1", daemon.Metrics());

        // No token file: control actions are disabled even for an allow-listed target.
        (HttpStatusCode status, System.Text.Json.JsonElement body) = daemon.Post($"/api/targets/{Environment.ProcessId}/trim", token: "whatever-token-123456");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("actions-disabled", body.GetProperty("error").GetString());
        Assert.Contains("AllowActions but Auth.TokenFile is not set", daemon.Output);

        // Logging.Format json: every line is one compact JSON event.
        string[] lines = daemon.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.True(System.Text.Json.JsonDocument.Parse(l).RootElement.TryGetProperty("@t", out _), l));
        string watching = Assert.Single(lines, l => l.Contains("\"@mt\":\"watching {Pid}", StringComparison.Ordinal));
        System.Text.Json.JsonElement eventId = System.Text.Json.JsonDocument.Parse(watching).RootElement.GetProperty("EventId");
        Assert.Equal(2001, eventId.GetProperty("Id").GetInt32());
        Assert.Equal("Watching", eventId.GetProperty("Name").GetString());
    }

    [Fact]
    public void SlowlorisConnectionsAreCutOffAndOthersAreServed()
    {
        using DaemonProcess daemon = DaemonProcess.Start(config => config["Targets"] = new object[]
        {
            new Dictionary<string, object?> { ["Pid"] = Environment.ProcessId },
        });

        // Connections that send half a request line and stall.
        var stalled = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 20; i++)
            {
                var c = new TcpClient();
                c.Connect(IPAddress.Loopback, daemon.Port);
                c.GetStream().Write(Encoding.ASCII.GetBytes("GET /metr"));
                stalled.Add(c);
            }

            daemon.Get("/healthz", out HttpStatusCode status);
            Assert.Equal(HttpStatusCode.OK, status);

            // Kestrel's RequestHeadersTimeout (10 s) closes them.
            var sw = Stopwatch.StartNew();
            TcpClient first = stalled[0];
            first.ReceiveTimeout = 30_000;
            int read = first.GetStream().Read(new byte[1024]);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(25), $"stalled connection open for {sw.Elapsed}");
            _ = read;
        }
        finally
        {
            stalled.ForEach(c => c.Dispose());
        }
    }

    private static List<string> Receive(Socket socket)
    {
        var received = new List<string>();
        byte[] buffer = new byte[4096];
        while (socket.Available > 0)
        {
            int n = socket.Receive(buffer);
            received.Add(Encoding.UTF8.GetString(buffer, 0, n));
        }

        if (received.Count == 0)
        {
            try
            {
                int n = socket.Receive(buffer);
                received.Add(Encoding.UTF8.GetString(buffer, 0, n));
            }
            catch (SocketException)
            {
                // Timeout: nothing yet.
            }
        }

        return received;
    }
}
