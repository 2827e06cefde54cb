using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>`memwatch run` over real .NET targets: GC counters in the metrics and the API, and POST gc with its checks.</summary>
public sealed class DotNetApiTests : IClassFixture<DotNetDaemonFixture>
{
    private const double MiB = 1024 * 1024;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);
    private readonly DotNetDaemonFixture _f;

    public DotNetApiTests(DotNetDaemonFixture fixture)
    {
        _f = fixture;
    }

    private DaemonProcess Daemon => _f.Daemon;

    [Fact]
    public void GcHeapMetricMatchesWhatTheTargetSaysOfItself()
    {
        string label = $"pid=\"{_f.Allowed.Pid}\"";

        // The daemon reads every 2 s; the target's heap only changes when a test acts on it, so a reading taken between
        // two of its own answers must agree with them.
        (double reported, long said) = Poll.Until(
            () =>
            {
                long before = _f.Allowed.Send("stats")["total"];
                double? metric = MetricsText.Value(Daemon.Metrics(), "memwatch_dotnet_gc_heap_bytes", label);
                long after = _f.Allowed.Send("stats")["total"];
                return metric is { } m && Math.Abs(before - after) < MiB / 4 && Math.Abs(m - after) < MiB ? Tuple.Create(m, after) : null;
            },
            s_timeout, () => $"the daemon's gc heap never matched the target's: {Daemon.Metrics()}\n{Daemon.Output}", everyMilliseconds: 500);

        Assert.True(said >= DotNetDaemonFixture.KeptMiB * MiB, $"the target keeps {DotNetDaemonFixture.KeptMiB} MiB, says {said}");
        Assert.InRange(reported, said - MiB, said + MiB);

        string metrics = Daemon.Metrics();
        Assert.NotNull(MetricsText.Value(metrics, "memwatch_dotnet_gc_generation_bytes", label, "generation=\"gen0\""));
        Assert.NotNull(MetricsText.Value(metrics, "memwatch_dotnet_allocation_rate_bytes_per_second", label));

        // Passive .NET targets are watched from /proc only: no session is opened in them.
        Assert.Null(MetricsText.Value(metrics, "memwatch_dotnet_gc_heap_bytes", $"pid=\"{_f.Passive.Pid}\""));
        Assert.NotNull(MetricsText.Value(metrics, "memwatch_process_resident_bytes", $"pid=\"{_f.Passive.Pid}\""));
        Assert.Null(MetricsText.Value(metrics, "memwatch_dotnet_gc_heap_bytes", $"pid=\"{_f.Native.Pid}\""));
        AssertPromtoolAccepts(metrics);
    }

    [Fact]
    public void TargetDetailCarriesTheManagedFiguresAndTheSplit()
    {
        var detail = (JsonElement)Poll.Until(
            () => Daemon.GetJson($"/api/targets/{_f.Allowed.Pid}", out HttpStatusCode s) is var d && s == HttpStatusCode.OK
                && d.GetProperty("report").GetProperty("dotnet").ValueKind == JsonValueKind.Object ? (object)d : null,
            s_timeout, () => Daemon.Output, everyMilliseconds: 500);

        JsonElement target = detail.GetProperty("target");
        JsonElement dotnet = detail.GetProperty("report").GetProperty("dotnet");
        ulong heap = dotnet.GetProperty("gcHeapBytes").GetUInt64();
        Assert.True(heap >= DotNetDaemonFixture.KeptMiB * MiB, $"gcHeapBytes {heap}");
        Assert.EndsWith($"-socket", dotnet.GetProperty("socketPath").GetString());
        JsonElement split = dotnet.GetProperty("split");
        Assert.Equal(heap, split.GetProperty("managedHeapBytes").GetUInt64());
        Assert.True(split.GetProperty("gcResidentBytes").GetUInt64() >= (ulong)(KeptBytes * 0.8), split.ToString());
        Assert.True(target.GetProperty("dotnetGcHeapBytes").GetInt64() >= KeptBytes);
        Assert.Equal(JsonValueKind.String, target.GetProperty("dotnetReadAt").ValueKind);

        JsonElement list = Daemon.GetJson("/api/targets", out HttpStatusCode status);
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement passive = list.EnumerateArray().Single(t => t.GetProperty("pid").GetInt32() == _f.Passive.Pid);
        Assert.Equal(JsonValueKind.Null, passive.GetProperty("dotnetGcHeapBytes").ValueKind);
    }

    [Fact]
    public void ApiGcFreesTheGarbageOfAChurnTarget()
    {
        long churned = _f.Allowed.Send("churn 64")["total"];
        Assert.True(churned >= (DotNetDaemonFixture.KeptMiB + 60) * MiB, $"the target's heap after churn: {churned}");

        (HttpStatusCode status, JsonElement body) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/gc", token: DotNetDaemonFixture.Token);
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}\n{Daemon.Output}");
        Assert.Equal("released", body.GetProperty("result").GetString());
        Assert.True(body.GetProperty("gcObserved").GetBoolean(), body.ToString());
        ulong before = body.GetProperty("heapBeforeBytes").GetUInt64();
        ulong after = body.GetProperty("heapAfterBytes").GetUInt64();
        Assert.True(before >= (DotNetDaemonFixture.KeptMiB + 60) * MiB, body.ToString());
        Assert.True(before - after >= 56 * MiB, $"GC heap {before} -> {after}");
        Assert.True(after >= (ulong)KeptBytes, $"the kept arrays survive: {after}");
        Assert.True(body.GetProperty("rssBeforeBytes").GetUInt64() > 0);

        // The target agrees, and the daemon's next read shows it.
        Assert.InRange(_f.Allowed.Send("stats")["total"], KeptBytes, (long)(before - 56 * MiB));
        string label = $"pid=\"{_f.Allowed.Pid}\"";
        Poll.Until(() => MetricsText.Value(Daemon.Metrics(), "memwatch_dotnet_gc_heap_bytes", label) < before - 56 * MiB, s_timeout, () => Daemon.Output);

        (status, body) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/gc", token: DotNetDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("rate-limited", body.GetProperty("error").GetString());

        Assert.True(MetricsText.Value(Daemon.Metrics(), "memwatch_remediations_total", "action=\"gc\"", "result=\"released\"") >= 1);
        Daemon.AssertLogged("gc of " + _f.Allowed.Pid);
    }

    [Fact]
    public void GcNeedsTheTokenAnAllowListedTargetAndDotNet()
    {
        (HttpStatusCode status, JsonElement body) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/gc");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("unauthorized", body.GetProperty("error").GetString());

        (status, _) = Daemon.Post($"/api/targets/{_f.Allowed.Pid}/gc", token: "not-the-token-at-all-0000");
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        (status, body) = Daemon.Post($"/api/targets/{_f.Passive.Pid}/gc", token: DotNetDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("not-allowed", body.GetProperty("error").GetString());

        (status, _) = Daemon.Post("/api/targets/2147483647/gc", token: DotNetDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.NotFound, status);

        double refusedBefore = MetricsText.Value(Daemon.Metrics(), "memwatch_remediations_total", "action=\"gc\"", "result=\"refused\"") ?? 0;
        (status, body) = Daemon.Post($"/api/targets/{_f.Native.Pid}/gc", token: DotNetDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("not-dotnet", body.GetProperty("error").GetString());
        Assert.Contains("not a .NET process", body.GetProperty("detail").GetString());

        // Nothing was attempted, and the target's action budget is untouched: a trim goes through at once.
        Assert.Equal(refusedBefore, MetricsText.Value(Daemon.Metrics(), "memwatch_remediations_total", "action=\"gc\"", "result=\"refused\"") ?? 0);
        (status, body) = Daemon.Post($"/api/targets/{_f.Native.Pid}/trim", token: DotNetDaemonFixture.Token);
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");

        Assert.DoesNotContain(DotNetDaemonFixture.Token, Daemon.Output);
    }

    [Fact]
    public void ADotNetProcessWithoutItsDiagnosticServerIsWatchedButCannotBeCollected()
    {
        string label = $"pid=\"{_f.NoDiagnostics.Pid}\"";

        // Its smaps show the runtime (the region model is read), but there is no socket to read counters from.
        Poll.Until(() => MetricsText.Value(Daemon.Metrics(), "memwatch_process_region_resident_bytes", label, "region=\"gc-heap\"") > 0, s_timeout, () => Daemon.Output);
        Poll.Until(() => MetricsText.Value(Daemon.Metrics(), "memwatch_dotnet_gc_heap_bytes", $"pid=\"{_f.Allowed.Pid}\"") is not null, s_timeout, () => Daemon.Output);
        Assert.Null(MetricsText.Value(Daemon.Metrics(), "memwatch_dotnet_gc_heap_bytes", label));

        (HttpStatusCode status, JsonElement body) = Daemon.Post($"/api/targets/{_f.NoDiagnostics.Pid}/gc", token: DotNetDaemonFixture.Token);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("not-dotnet", body.GetProperty("error").GetString());
        Assert.Contains("DOTNET_EnableDiagnostics=0", body.GetProperty("detail").GetString());
    }

    private static long KeptBytes => (long)(DotNetDaemonFixture.KeptMiB * MiB);

    private static void AssertPromtoolAccepts(string metrics)
    {
        var psi = new ProcessStartInfo("promtool", "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process promtool = Process.Start(psi)!;
        promtool.StandardInput.Write(metrics);
        promtool.StandardInput.Close();
        string output = promtool.StandardOutput.ReadToEnd() + promtool.StandardError.ReadToEnd();
        promtool.WaitForExit();
        Assert.True(promtool.ExitCode == 0, $"promtool check metrics: {output}");
    }
}
