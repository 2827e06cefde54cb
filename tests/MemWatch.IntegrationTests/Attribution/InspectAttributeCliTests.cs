using System.Globalization;
using System.Text.Json;

namespace MemWatch.IntegrationTests.Attribution;

/// <summary><c>memwatch inspect PID --watch S --attribute</c> as users run it: text, JSON, folded stacks, the SVG, and the refusals.</summary>
public sealed class InspectAttributeCliTests
{
    [Fact]
    public void Attribute_LeakingProcess_ReportsTheSiteInJsonFoldedAndSvg()
    {
        using Workload w = AttributionCorpus.Start("paths");
        string dir = Directory.CreateTempSubdirectory("memwatch-attribution-").FullName;
        try
        {
            string folded = Path.Combine(dir, "out.folded");
            string svg = Path.Combine(dir, "out.svg");
            MemwatchCli.Result r = MemwatchCli.Run(["inspect", w.Pid.ToString(CultureInfo.InvariantCulture), "--watch", "3", "--attribute", "--json", "--folded", folded, "--flamegraph", svg]);
            Assert.True(r.ExitCode == 0, r.StandardError);

            JsonElement a = JsonDocument.Parse(r.StandardOutput).RootElement.GetProperty("attribution");
            Assert.True(a.GetProperty("events").GetInt64() > 0);
            Assert.True(a.GetProperty("bytes").GetInt64() > 1024 * 1024, a.ToString());
            JsonElement top = a.GetProperty("sites")[0];
            Assert.Contains(top.GetProperty("frames").EnumerateArray(), f => f.GetProperty("function").GetString() == "cache_insert" && f.GetProperty("module").GetString() == "attr_sites");
            double shares = a.GetProperty("sites").EnumerateArray().Sum(s => s.GetProperty("share").GetDouble());
            Assert.InRange(shares, 0.9, 1.0001);

            string[] lines = File.ReadAllLines(folded);
            Assert.NotEmpty(lines);
            Assert.All(lines, l => Assert.Matches(@"^_start \(attr_sites\);.+ \d+$", l));
            Assert.Contains(lines, l => l.Contains(";cache_insert (attr_sites);", StringComparison.Ordinal));
            Assert.Equal(a.GetProperty("bytes").GetInt64(), lines.Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)));

            string graph = File.ReadAllText(svg);
            Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", graph);
            Assert.Contains("cache_insert", graph);
            Assert.DoesNotContain("<script", graph);
            Assert.DoesNotContain("href", graph);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Attribute_Text_ShowsTopSitesOrNoGrowth()
    {
        using Workload leak = AttributionCorpus.Start("thread");
        MemwatchCli.Result r = MemwatchCli.Run(["inspect", leak.Pid.ToString(CultureInfo.InvariantCulture), "--watch", "3", "--attribute"]);
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains("attribution over", r.StandardOutput);
        Assert.Matches(@"#1 +[\d.]+ [KMG]iB +\d+\.\d%\n +\S+", r.StandardOutput);
        Assert.Contains("stash_result (attr_sites+0x", r.StandardOutput);

        using Workload churn = AttributionCorpus.Start("churn-only");
        r = MemwatchCli.Run(["inspect", churn.Pid.ToString(CultureInfo.InvariantCulture), "--watch", "3", "--attribute"]);
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains("  no growth to attribute: ", r.StandardOutput);
        Assert.DoesNotContain("#1 ", r.StandardOutput);
    }

    [Fact]
    public void Attribute_WithoutPerfmon_Exits4NamingWhatIsMissing()
    {
        using Workload w = AttributionCorpus.Start("paths");

        // Root without CAP_PERFMON and CAP_SYS_ADMIN (kernel.perf_event_paranoid is above -1 here).
        MemwatchCli.Result r = MemwatchCli.Run(
            ["inspect", w.Pid.ToString(CultureInfo.InvariantCulture), "--watch", "1", "--attribute"],
            prefix: ["setpriv", "--inh-caps=-perfmon,-sys_admin", "--bounding-set=-perfmon,-sys_admin"]);
        Assert.Equal(4, r.ExitCode);
        string line = Assert.Single(r.StandardError.TrimEnd().Split('\n'));
        Assert.StartsWith("memwatch: attribution needs CAP_PERFMON (or root)", line);
        Assert.Contains("perf_event_paranoid is", line);
    }

    [Theory]
    [InlineData("--attribute")]
    [InlineData("--flamegraph", "/tmp/x.svg")]
    public void Attribute_BadUsage_Exits2(params string[] extra)
    {
        MemwatchCli.Result r = MemwatchCli.Run(["inspect", "1", .. extra]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(extra[0] == "--attribute" ? "--attribute needs --watch" : "need --attribute", r.StandardError);
    }
}
