using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;
using Xunit.Abstractions;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// Issue 14, items 2-5, against the published daemon on loopback: unauthenticated reads, token guessing from one and
/// from many networks, connections held open, a chunked body, and the shape of errors. Other networks are other
/// loopback addresses (all of 127.0.0.0/8 reaches the daemon).
/// </summary>
public sealed class ApiSafetyTests : IDisposable
{
    private const string Token = "api-safety-token-0123456789";
    private readonly ITestOutputHelper _output;
    private readonly Workload _target;

    public ApiSafetyTests(ITestOutputHelper output)
    {
        _output = output;
        _target = Workload.Start("paced_leak.c", "secret-argument-f00d");
    }

    [Fact]
    public async Task Reads_NeedTheToken_AnonymousReadsWithholdCommandLines()
    {
        using DaemonProcess daemon = Start(tokenFile: true);
        using var anonymous = new HttpClient { BaseAddress = daemon.Http.BaseAddress };

        using HttpResponseMessage list = await anonymous.GetAsync("/api/targets");
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal("Bearer", list.Headers.WwwAuthenticate.ToString());
        await AssertProblem(list, 401, "unauthorized");
        using HttpResponseMessage detail = await anonymous.GetAsync($"/api/targets/{_target.Pid}");
        Assert.Equal(HttpStatusCode.Unauthorized, detail.StatusCode);

        // With the token: the command line in full.
        JsonElement withToken = daemon.GetJson($"/api/targets/{_target.Pid}", out HttpStatusCode status);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("secret-argument-f00d", withToken.GetProperty("report").GetProperty("commandLine").GetString());

        // /metrics and the probes stay open.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);

        // AnonymousReads opens the GET routes without command lines; no token file and no AnonymousReads closes them.
        using DaemonProcess open = Start(tokenFile: false, auth: new() { ["AnonymousReads"] = true });
        string body = open.Get($"/api/targets/{_target.Pid}", out status);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("secret-argument-f00d", body);
        Assert.Equal("", JsonDocument.Parse(body).RootElement.GetProperty("report").GetProperty("commandLine").GetString());
        using DaemonProcess closed = Start(tokenFile: false, auth: []);
        Assert.Equal("reads-disabled", closed.GetJson("/api/targets", out status).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public void Detail_FullSmapsReadAtMostOncePer10sPerTarget()
    {
        using DaemonProcess daemon = Start(tokenFile: true);
        _target.Send("leak 4096");

        // The target grows 4 MiB/s: two fresh reads a second apart could not agree on its RSS.
        string first = daemon.Get($"/api/targets/{_target.Pid}", out HttpStatusCode s1);
        Thread.Sleep(1500);
        string second = daemon.Get($"/api/targets/{_target.Pid}", out HttpStatusCode s2);

        Assert.Equal(HttpStatusCode.OK, s1);
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal(Rss(first), Rss(second));

        static long Rss(string json) => JsonDocument.Parse(json).RootElement.GetProperty("report").GetProperty("rssBytes").GetInt64();
    }

    [Fact]
    public async Task WrongTokens_LimitedPerNetworkAndOverall_LoggedOncePerMinute()
    {
        using DaemonProcess daemon = Start(tokenFile: true);
        var sw = Stopwatch.StartNew();
        int unauthorized = 0, limited = 0, other = 0;

        // 300 guesses from one network, then 300 from 100 networks (three addresses each, rotating).
        for (int i = 0; i < 600; i++)
        {
            IPAddress from = i < 300 ? IPAddress.Parse($"127.0.3.{1 + (i % 250)}") : IPAddress.Parse($"127.{10 + (i % 100)}.0.{1 + (i / 100)}");
            using HttpClient client = From(from, daemon.Http.BaseAddress!);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/targets/{_target.Pid}/trim");
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer wrong-guess-{i:D6}-xxxxxxxx");
            using HttpResponseMessage r = await client.SendAsync(request);
            switch (r.StatusCode)
            {
                case HttpStatusCode.Unauthorized: unauthorized++; break;
                case HttpStatusCode.TooManyRequests: limited++; break;
                default: other++; break;
            }
        }

        double seconds = sw.Elapsed.TotalSeconds;
        _output.WriteLine($"600 wrong tokens in {seconds:0.0} s: {unauthorized} x 401, {limited} x 429, {other} other");

        // Compared at most: 20 at once overall, then one per second of the run.
        Assert.Equal(0, other);
        Assert.True(unauthorized <= 20 + (int)Math.Ceiling(seconds) + 1, $"{unauthorized} tokens were compared in {seconds:0.0} s");
        daemon.AssertLogged("rejected a trim request from 127.0.3.0/24");
        int lines = daemon.Output.Split('\n').Count(l => l.Contains("rejected a trim request from 127.0.3.0/24", StringComparison.Ordinal));
        Assert.Equal(1, lines);

        // The right token from a network that did not guess is not refused once the overall budget has refilled.
        Thread.Sleep(3000);
        using HttpClient good = From(IPAddress.Parse("127.0.200.1"), daemon.Http.BaseAddress!);
        using var ok = new HttpRequestMessage(HttpMethod.Get, "/api/targets");
        ok.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Token);
        Assert.Equal(HttpStatusCode.OK, (await good.SendAsync(ok)).StatusCode);
    }

    [Fact]
    public async Task HeldConnections_HealthzAndMetricsStayAnswerable()
    {
        using DaemonProcess daemon = Start(tokenFile: true);
        var held = new List<Socket>();
        try
        {
            // 300 connections that never send a request, from one attacker network.
            int refused = 0;
            for (int i = 0; i < 300; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                held.Add(s);
                s.Bind(new IPEndPoint(IPAddress.Parse($"127.0.4.{1 + (i % 250)}"), 0));
                try
                {
                    await s.ConnectAsync(IPAddress.Loopback, daemon.Port);
                }
                catch (SocketException)
                {
                    // The daemon already cut this network's excess connections.
                    refused++;
                }
            }

            _output.WriteLine($"attacker connections refused at connect: {refused} of 300");

            var sw = Stopwatch.StartNew();
            using var client = new HttpClient { BaseAddress = daemon.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            using HttpResponseMessage health = await client.GetAsync("/healthz");
            double healthMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            using HttpResponseMessage metrics = await client.GetAsync("/metrics");
            double metricsMs = sw.Elapsed.TotalMilliseconds;
            _output.WriteLine($"with 300 connections held open by one network: /healthz {health.StatusCode} in {healthMs:0} ms, /metrics {metrics.StatusCode} in {metricsMs:0} ms");

            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_IsRefusedBeforeTheAction()
    {
        using DaemonProcess daemon = Start(tokenFile: true);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, daemon.Port);
        string head = $"POST /api/targets/{_target.Pid}/trim HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {Token}\r\nTransfer-Encoding: chunked\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        string chunk = $"{16384:x}\r\n{new string('x', 16384)}\r\n";
        try
        {
            for (int i = 0; i < 64; i++)
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes(chunk));
            }

            await socket.SendAsync("0\r\n\r\n"u8.ToArray());
        }
        catch (SocketException)
        {
            // The daemon answered and closed before the whole MiB was sent.
        }

        var answer = new byte[4096];
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int n = await socket.ReceiveAsync(answer, cancel.Token);
        string text = Encoding.ASCII.GetString(answer, 0, n);
        Assert.StartsWith("HTTP/1.1 413 ", text);
        Assert.Contains("application/problem+json", text);
        Assert.DoesNotContain(daemon.Metrics().Split('\n'), l => l.StartsWith("memwatch_remediations_total{action=\"trim\"", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal));
    }

    public void Dispose() => _target.Dispose();

    private DaemonProcess Start(bool tokenFile, Dictionary<string, object?>? auth = null) => DaemonProcess.Start(config =>
    {
        config["Targets"] = new object[] { new Dictionary<string, object?> { ["Name"] = "target", ["Pid"] = _target.Pid, ["AllowActions"] = true } };
        config["Sampling"] = TestConfig.FastSampling();
        if (auth is not null)
        {
            config["Auth"] = auth;
        }
    }, tokenFileContent: tokenFile ? Token : null);

    private static async Task AssertProblem(HttpResponseMessage response, int status, string error)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        using JsonDocument doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement p = doc.RootElement;
        Assert.Equal($"urn:memwatch:problem:{error}", p.GetProperty("type").GetString());
        Assert.Equal(status, p.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(p.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(p.GetProperty("detail").GetString()));
        Assert.Equal(error, p.GetProperty("error").GetString());
    }

    /// <summary>An HttpClient whose connections come from <paramref name="local"/> (another loopback address).</summary>
    internal static HttpClient From(IPAddress local, Uri baseAddress) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancel) =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(local, 0));
            await s.ConnectAsync(context.DnsEndPoint, cancel);
            return new NetworkStream(s, ownsSocket: true);
        },
    })
    { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
}
