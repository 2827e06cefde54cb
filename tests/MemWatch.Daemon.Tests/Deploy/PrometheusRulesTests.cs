using System.Text.RegularExpressions;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>deploy/prometheus: promtool accepts the rules and the sample config, and the rules' unit tests pass.</summary>
public sealed partial class PrometheusRulesTests
{
    private static string Dir => DeployTree.File("prometheus");

    [Fact]
    public void PromtoolChecksTheRules()
    {
        ExternalTool.Result r = ExternalTool.Run("promtool", ["check", "rules", "memwatch.rules.yml"], Dir);

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("SUCCESS", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PromtoolUnitTestsPass()
    {
        ExternalTool.Result r = ExternalTool.Run("promtool", ["test", "rules", "memwatch.rules.test.yml"], Dir);

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("SUCCESS", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PromtoolChecksTheSampleConfig()
    {
        ExternalTool.Result r = ExternalTool.Run("promtool", ["check", "config", "prometheus.yml"], Dir);

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("1 rule files found", r.Output, StringComparison.Ordinal);
    }

    /// <summary>Every alert links a section of docs/runbooks.md that exists (GitHub's heading anchor: lower case).</summary>
    [Fact]
    public void EveryAlertLinksItsRunbook()
    {
        string rules = DeployTree.ReadAllText("prometheus", "memwatch.rules.yml");
        string[] headings = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "docs", "runbooks.md"))
            .Where(l => l.StartsWith("## ", StringComparison.Ordinal)).Select(l => l[3..].Trim().ToLowerInvariant()).ToArray();
        string[] alerts = Regex.Matches(rules, @"- alert: (\w+)").Select(m => m.Groups[1].Value).ToArray();
        string[] links = Regex.Matches(rules, @"runbook_url: ""[^""#]*/docs/runbooks\.md#([a-z]+)""").Select(m => m.Groups[1].Value).ToArray();

        Assert.NotEmpty(alerts);
        Assert.Equal(alerts.Select(a => a.ToLowerInvariant()), links);
        Assert.All(links, l => Assert.Contains(l, headings));
    }

    /// <summary>Every alert the issue names exists and has a unit test that expects it to fire.</summary>
    [Theory]
    [InlineData("MemWatchOomApproaching")]
    [InlineData("MemWatchSustainedLeak")]
    [InlineData("MemWatchLargeReleasableRetention")]
    [InlineData("MemWatchOomKills")]
    [InlineData("MemWatchDown")]
    [InlineData("MemWatchStale")]
    public void AlertIsDefinedAndTested(string alert)
    {
        string rules = DeployTree.ReadAllText("prometheus", "memwatch.rules.yml");
        string tests = DeployTree.ReadAllText("prometheus", "memwatch.rules.test.yml");

        Assert.Contains($"- alert: {alert}\n", rules);
        Assert.Matches(new Regex($@"alertname: {alert}\n\s+exp_alerts:\n\s+- exp_labels:"), tests);
        Assert.Matches(new Regex($@"alertname: {alert}\n\s+exp_alerts: \[\]"), tests);
    }

    [Fact]
    public void RulesQueryOnlyContractMetrics()
    {
        IReadOnlySet<string> queryable = MetricContract.Queryable();
        string rules = DeployTree.ReadAllText("prometheus", "memwatch.rules.yml");

        List<string> expressions = RuleExpressions(rules);
        Assert.True(expressions.Count >= 12, $"found {expressions.Count} expressions");
        foreach (string expr in expressions)
        {
            IReadOnlySet<string> names = PromQlNames.In(expr);
            Assert.NotEmpty(names);
            Assert.All(names, n => Assert.True(queryable.Contains(n), $"'{n}' in `{expr}` is not a MemWatch metric"));
        }
    }

    /// <summary>The values of <c>expr:</c>, inline or as a block scalar.</summary>
    internal static List<string> RuleExpressions(string rules)
    {
        var result = new List<string>();
        string[] lines = rules.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            Match m = ExprLine().Match(lines[i]);
            if (!m.Success)
            {
                continue;
            }

            if (m.Groups[2].Value != "|")
            {
                result.Add(m.Groups[2].Value);
                continue;
            }

            int indent = m.Groups[1].Value.Length;
            var block = new List<string>();
            while (i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent))
            {
                block.Add(lines[++i]);
            }

            result.Add(string.Join('\n', block).Trim());
        }

        return result;
    }

    [GeneratedRegex(@"^(\s*)expr: (.*?)\s*$")]
    private static partial Regex ExprLine();
}
