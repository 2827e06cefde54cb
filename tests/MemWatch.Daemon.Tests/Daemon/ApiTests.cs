using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>`memwatch run` against real workloads: metrics content, every API route, auth failures, an API trim, a target that exits.</summary>
public sealed class ApiTests : IClassFixture<ApiDaemonFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly ApiDaemonFixture _f;

    public ApiTests(ApiDaemonFixture fixture)
    {
        _f = fixture;
    }

    private DaemonProcess Daemon => _f.Daemon;

    [Fact]
    public void MetricsReportTheWorkloadsResidentMemoryAndRegions()
    {
        int pid = _f.Passive.Pid;
        string label = $"pid=\"{pid}\"";
        string metrics = Poll.Until(
            () => Daemon.Metrics() is var m && MetricsText.Value(m, "memwatch_process_region_resident_bytes", label, "region=\"heap\"") is not null ? m : null,
            s_timeout, () => Daemon.Output);

        double reported = MetricsText.Value(metrics, "memwatch_process_resident_bytes", label)!.Value;
        double actual = ProcRss(pid);
        Assert.InRange(reported, actual * 0.9, actual * 1.1);
        Assert.True(reported > 64 * 1024 * 1024, $"the workload holds 64 MiB, metrics say {reported}");

        // 64 MiB of 100-byte blocks live in the main heap.
        Assert.True(MetricsText.Value(metrics, "memwatch_process_region_resident_bytes", label, "region=\"heap\"") > 60 * 1024 * 1024);
        Assert.Equal(1, MetricsText.Value(metrics, "memwatch_process_glibc_arenas", label));
        Assert.Contains("comm=\"seed\"", metrics);
        Assert.DoesNotContain("=\"\"", metrics);   // empty labels (no unit here) are left out, as Prometheus reads them
        Assert.True(MetricsText.Value(metrics, "memwatch_process_minor_faults_total", label) > 1000);
        Assert.NotNull(MetricsText.Value(metrics, "memwatch_process_proportional_bytes", label));
        int series = metrics.Split('\n').Count(l => l.StartsWith("memwatch_process_resident_bytes{", StringComparison.Ordinal));
        Assert.InRange(series, 2, 3);
        Assert.Equal(series, MetricsText.Value(metrics, "memwatch_targets"));
        Assert.True(MetricsText.Value(metrics, "memwatch_sample_duration_seconds_count", "depth=\"status\"") > 0);
        Assert.True(MetricsText.Value(metrics, "memwatch_last_sample_timestamp_seconds") > DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60);
        Assert.Equal(1, MetricsText.Value(metrics, "memwatch_build_info"));

    }

    [Fact]
    public void GrowthIsMeasuredOverTheWindow()
    {
        string label = $"pid=\"{_f.Passive.Pid}\"";
        double growth = Poll.Until(
            () => MetricsText.Value(Daemon.Metrics(), "memwatch_process_growth_bytes_per_second", label) is { } g ? (object)g : null,
            s_timeout, () => Daemon.Output) is double d ? d : double.NaN;

        // The workload is idle after its fill: flat within 1 MiB/s.
        Assert.InRange(growth, -1024 * 1024, 1024 * 1024);
    }

    [Fact]
    public void MetricsPassPromtoolInTheTextFormat()
    {
        string metrics = Daemon.Metrics();
        var psi = new ProcessStartInfo("promtool", "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process promtool = Process.Start(psi)!;
        promtool.StandardInput.Write(metrics);
        promtool.StandardInput.Close();
        string output = promtool.StandardOutput.ReadToEnd() + promtool.StandardError.ReadToEnd();
        promtool.WaitForExit();
        Assert.True(promtool.ExitCode == 0, $"promtool check metrics: {output}");
    }

    [Fact]
    public async Task OpenMetricsIsServedWhenAccepted()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        using HttpResponseMessage response = await Daemon.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.StartsWith("application/openmetrics-text", response.Content.Headers.ContentType!.ToString());
        Assert.EndsWith("# EOF\n", body);
        Assert.Contains("# TYPE memwatch_process_minor_faults counter\n", body);
        Assert.Contains("# UNIT memwatch_process_resident_bytes bytes\n", body);
        Assert.Contains($"memwatch_process_minor_faults_total{{pid=\"{_f.Passive.Pid}\"", body);

        string text = Daemon.Metrics();
        Assert.StartsWith("# HELP", text);
        Assert.Contains("# TYPE memwatch_process_minor_faults_total counter\n", text);
        Assert.DoesNotContain("# EOF", text);
    }

    [Fact]
    public void TargetsListAndDetail()
    {
        JsonElement list = Daemon.GetJson("/api/targets", out HttpStatusCode status);
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement passive = list.EnumerateArray().Single(t => t.GetProperty("pid").GetInt32() == _f.Passive.Pid);
        Assert.Equal("passive", passive.GetProperty("rule").GetString());
        Assert.Equal("seed", passive.GetProperty("comm").GetString());
        Assert.False(passive.GetProperty("allowActions").GetBoolean());
        Assert.True(passive.GetProperty("rssBytes").GetUInt64() > 64UL * 1024 * 1024);

        JsonElement detail = Daemon.GetJson($"/api/targets/{_f.Passive.Pid}", out status);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(_f.Passive.Pid, detail.GetProperty("target").GetProperty("pid").GetInt32());
        JsonElement report = detail.GetProperty("report");
        Assert.Equal(_f.Passive.Pid, report.GetProperty("pid").GetInt32());
        Assert.Equal("glibc", report.GetProperty("allocator").GetProperty("name").GetString());
        Assert.Contains(report.GetProperty("regions").EnumerateArray(), r => r.GetProperty("kind").GetString() == "heap");
    }

    [Fact]
    public void HealthAndReadiness()
    {
        JsonElement health = Daemon.GetJson("/healthz", out HttpStatusCode status);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", health.GetProperty("status").GetString());
        JsonElement ready = Daemon.GetJson("/readyz", out status);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("/nope", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/api/targets/abc", HttpStatusCode.BadRequest, "bad-pid")]
    [InlineData("/api/targets/-1", HttpStatusCode.BadRequest, "bad-pid")]
    [InlineData("/api/targets/99999999999999999999", HttpStatusCode.BadRequest, "bad-pid")]
    [InlineData("/api/targets/1/explode", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/api/targets/2147483647", HttpStatusCode.NotFound, "not-a-target")]
    public void BadRequestsGetJsonErrors(string path, HttpStatusCode expected, string error)
    {
        JsonElement body = Daemon.GetJson(path, out HttpStatusCode status);
        Assert.Equal(expected, status);
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task WrongMethodsAndOversizeBodiesAreRefused()
    {
        using (HttpResponseMessage r = await Daemon.Http.PostAsync("/metrics", new StringContent("")))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
        }

        using (HttpResponseMessage r = await Daemon.Http.GetAsync($"/api/targets/{_f.Allowed.Pid}/trim"))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
        }

        // An oversize body is refused from its Content-Length. A raw socket sends the headers and only part of the body,
        // so that the server's answer-and-close cannot race a client still writing (HttpClient would see a broken pipe).
        using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, Daemon.Port);
            string head = $"POST /api/targets/{_f.Allowed.Pid}/trim HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {1 << 20}\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(head + new string('x', 8192)));
            var answer = new byte[512];
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            int n = await socket.ReceiveAsync(answer, cancel.Token);
            Assert.StartsWith("HTTP/1.1 413 ", Encoding.ASCII.GetString(answer, 0, n));
        }

        Assert.Equal(HttpStatusCode.OK, (await Daemon.Http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public void ControlActionsNeedTheTokenAndAnAllowListedTarget()
    {
        (HttpStatusCode status, JsonElement body) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/trim");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("unauthorized", body.GetProperty("error").GetString());

        (status, body) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/trim", token: "not-the-token-at-all-0000");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("unauthorized", body.GetProperty("error").GetString());

        (status, body) = Daemon.Post($"/api/targets/{_f.Passive.Pid}/trim", token: ApiDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("not-allowed", body.GetProperty("error").GetString());

        (status, _) = Daemon.Post("/api/targets/2147483647/trim", token: ApiDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.NotFound, status);

        // The .NET GC action passes the same checks, then refuses a process that is not .NET.
        (status, _) = Daemon.Post($"/api/targets/{_f.Passive.Pid}/gc", token: ApiDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        (status, body) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/gc", token: ApiDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("not-dotnet", body.GetProperty("error").GetString());

        // The token is never written to the log.
        Assert.DoesNotContain(ApiDaemonFixture.Token, Daemon.Output);
        Assert.DoesNotContain("not-the-token-at-all-0000", Daemon.Output);
    }

    [Fact]
    public void ApiTrimReleasesFreedMemoryAndIsRateLimitedPerTarget()
    {
        _f.Allowed.Send("fill 256");
        _f.Allowed.Send("drop");
        double before = ProcRss(_f.Allowed.Pid);
        Assert.True(before > 200 * 1024 * 1024, $"after fill and drop the seed keeps its freed blocks: RSS {before}");

        (HttpStatusCode status, JsonElement body) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/trim", token: ApiDaemonFixture.Token);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("released", body.GetProperty("result").GetString());
        ulong after = body.GetProperty("rssAfterBytes").GetUInt64();
        Assert.True(after < before / 4, $"RSS {before} -> {after}");
        Assert.True(ProcRss(_f.Allowed.Pid) < before / 4);

        (status, body) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/trim", token: ApiDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("rate-limited", body.GetProperty("error").GetString());

        string metrics = Daemon.Metrics();
        Assert.True(MetricsText.Value(metrics, "memwatch_remediations_total", "action=\"trim\"", "result=\"released\"") >= 1);
        Daemon.AssertLogged("trim of " + _f.Allowed.Pid);
    }

    [Fact]
    public void IntrospectedTargetsExportAllocatorFigures()
    {
        string label = $"pid=\"{_f.Allowed.Pid}\"";
        string metrics = Poll.Until(
            () => Daemon.Metrics() is var m && MetricsText.Value(m, "memwatch_allocator_in_use_bytes", label) is not null ? m : null,
            s_timeout, () => Daemon.Output);
        Assert.NotNull(MetricsText.Value(metrics, "memwatch_allocator_free_bytes", label, "allocator=\"glibc\""));
        Assert.Null(MetricsText.Value(metrics, "memwatch_allocator_in_use_bytes", $"pid=\"{_f.Passive.Pid}\""));
    }

    [Fact]
    public void ATargetThatExitsLeavesQuietly()
    {
        string label = $"pid=\"{_f.Doomed.Pid}\"";
        Poll.Until(() => MetricsText.Value(Daemon.Metrics(), "memwatch_process_resident_bytes", label) is not null, s_timeout, () => Daemon.Output);
        long errorsBefore = ErrorTotal(Daemon.Metrics());

        _f.Doomed.Kill();
        Poll.Until(() => MetricsText.Value(Daemon.Metrics(), "memwatch_process_resident_bytes", label) is null, s_timeout, () => Daemon.Output);

        Daemon.GetJson($"/api/targets/{_f.Doomed.Pid}", out HttpStatusCode status);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Daemon.AssertLogged($"stopped watching {_f.Doomed.Pid}");
        string after = Daemon.Metrics();
        Assert.True(errorsBefore == ErrorTotal(after),
            $"errors {errorsBefore} -> {ErrorTotal(after)}: {string.Join("; ", ErrorLines(after))}\n{Daemon.Output}");
        Assert.False(Daemon.HasExited);
    }

    private static long ErrorTotal(string metrics) =>
        (long)ErrorLines(metrics).Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static IEnumerable<string> ErrorLines(string metrics) =>
        metrics.Split('\n').Where(l => l.StartsWith("memwatch_sample_errors_total{", StringComparison.Ordinal));

    internal static double ProcRss(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"no VmRSS for {pid}");
    }
}
