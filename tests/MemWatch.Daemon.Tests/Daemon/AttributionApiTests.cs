using System.Net;
using System.Text.Json;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// The daemon's attribution: the <c>attribute</c> route is authenticated like the control actions and governed by the
/// rule's Attribution.Enabled; a rule with OnVerdict captures by itself once the verdict becomes leak or
/// unexplained-growth; the latest
/// capture is served by <c>GET .../attribution</c>. The workload leaks in cache_insert (tests/workloads/attribution).
/// </summary>
public sealed class AttributionApiTests
{
    private const string Token = "attribution-test-token-0123456789";

    [Fact]
    public void AttributeRouteNeedsTheTokenAndTheRuleAndNamesTheLeakingSite()
    {
        using Workload leak = Workload.Start("attribution/attr_sites.c", "paths");
        using Workload other = Workload.Start("attribution/attr_sites.c", "churn-only");
        using DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            config["Sampling"] = TestConfig.FastSampling();
            config["Targets"] = new object[]
            {
                new Dictionary<string, object?>
                {
                    ["Name"] = "leak", ["Pid"] = leak.Pid,
                    ["Attribution"] = new Dictionary<string, object?> { ["Enabled"] = true, ["Seconds"] = 3 },
                },
                new Dictionary<string, object?> { ["Name"] = "other", ["Pid"] = other.Pid },
            };
        }, tokenFileContent: Token);
        Poll.Until(() => { daemon.Get($"/api/targets/{other.Pid}", out HttpStatusCode s); return s == HttpStatusCode.OK; }, TimeSpan.FromSeconds(30), () => daemon.Output);

        Assert.Equal(HttpStatusCode.Unauthorized, daemon.Post($"/api/targets/{leak.Pid}/attribute").Status);
        Assert.Equal(HttpStatusCode.Unauthorized, daemon.Post($"/api/targets/{leak.Pid}/attribute", "wrong-token-wrong-token").Status);
        (HttpStatusCode status, JsonElement body) = daemon.Post($"/api/targets/{other.Pid}/attribute", Token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("not-allowed", body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, daemon.Post($"/api/targets/{leak.Pid}/attribute?seconds=999", Token).Status);
        daemon.Get($"/api/targets/{leak.Pid}/attribution", out HttpStatusCode none);
        Assert.Equal(HttpStatusCode.NotFound, none);

        (status, body) = daemon.Post($"/api/targets/{leak.Pid}/attribute?seconds=3", Token);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.StartsWith("api:", body.GetProperty("trigger").GetString());
        JsonElement attribution = body.GetProperty("attribution");
        Assert.True(attribution.GetProperty("hasGrowth").GetBoolean(), attribution.ToString());
        JsonElement top = attribution.GetProperty("sites")[0];
        Assert.Contains(top.GetProperty("frames").EnumerateArray(), f => f.GetProperty("function").GetString() == "cache_insert");

        // One leak shows as two or three sites (faults in its own writes, in malloc taking the top chunk, in sysmalloc
        // growing the heap; docs/attribution.md): each holds the leaking frame, and together they carry most of the
        // growth. Not all: a churning path's malloc that first touches the top chunk takes faults the leak then reuses.
        double leakShare = attribution.GetProperty("sites").EnumerateArray()
            .Where(site => site.GetProperty("frames").EnumerateArray().Any(f => f.GetProperty("function").GetString() == "cache_insert"))
            .Sum(site => site.GetProperty("share").GetDouble());
        Assert.True(leakShare > 0.5, attribution.ToString());

        JsonElement latest = daemon.GetJson($"/api/targets/{leak.Pid}/attribution", out HttpStatusCode latestStatus);
        Assert.Equal(HttpStatusCode.OK, latestStatus);
        Assert.Equal(body.GetProperty("at").GetString(), latest.GetProperty("at").GetString());
    }

    [Fact]
    public void OnVerdictCapturesWhenTheVerdictBecomesAGrowthVerdict()
    {
        using Workload leak = Workload.Start("attribution/attr_sites.c", "paths 4096");
        using DaemonProcess daemon = DaemonProcess.Start(config =>
        {
            config["Sampling"] = TestConfig.FastSampling();
            config["Targets"] = new object[]
            {
                new Dictionary<string, object?>
                {
                    ["Name"] = "leak", ["Pid"] = leak.Pid,
                    ["Attribution"] = new Dictionary<string, object?> { ["Enabled"] = true, ["OnVerdict"] = true, ["Seconds"] = 3 },
                },
            };
        });

        JsonElement record = default;
        Poll.Until(() =>
        {
            record = daemon.GetJson($"/api/targets/{leak.Pid}/attribution", out HttpStatusCode s);
            return s == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(120), () => daemon.Output);
        Assert.Contains(record.GetProperty("trigger").GetString(), new[] { "verdict:leak", "verdict:unexplained-growth" });
        JsonElement top = record.GetProperty("attribution").GetProperty("sites")[0];
        Assert.Contains(top.GetProperty("frames").EnumerateArray(), f => f.GetProperty("function").GetString() == "cache_insert");
        daemon.AssertLogged($"target {leak.Pid} (attr_sites): attribution (verdict:");
    }
}
