using System.Text.Json;
using System.Text.RegularExpressions;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// deploy/grafana/memwatch-dashboard.json: a Grafana dashboard document whose every query a real Prometheus parses
/// and that selects only metrics the daemon exports (or the recording rules of deploy/prometheus).
/// </summary>
public sealed partial class GrafanaDashboardTests(LoopbackPrometheus prometheus) : IClassFixture<LoopbackPrometheus>
{
    private static readonly string[] s_panelTypes = ["row", "stat", "timeseries", "state-timeline"];
    private static readonly string[] s_builtinVariables = ["__rate_interval", "__interval", "__range"];

    private static JsonDocument Load() => JsonDocument.Parse(DeployTree.ReadAllText("grafana", "memwatch-dashboard.json"));

    [Fact]
    public void IsADashboardDocument()
    {
        using JsonDocument doc = Load();
        JsonElement d = doc.RootElement;

        Assert.False(string.IsNullOrWhiteSpace(d.GetProperty("uid").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(d.GetProperty("title").GetString()));
        Assert.True(d.GetProperty("schemaVersion").GetInt32() >= 36);
        Assert.Equal(JsonValueKind.Object, d.GetProperty("time").ValueKind);

        var ids = new HashSet<int>();
        foreach (JsonElement panel in d.GetProperty("panels").EnumerateArray())
        {
            string title = panel.GetProperty("title").GetString()!;
            Assert.True(ids.Add(panel.GetProperty("id").GetInt32()), $"duplicate panel id in '{title}'");
            Assert.Contains(panel.GetProperty("type").GetString(), s_panelTypes);

            JsonElement grid = panel.GetProperty("gridPos");
            int x = grid.GetProperty("x").GetInt32(), w = grid.GetProperty("w").GetInt32();
            Assert.True(x >= 0 && w > 0 && x + w <= 24 && grid.GetProperty("h").GetInt32() > 0 && grid.GetProperty("y").GetInt32() >= 0, title);

            if (panel.GetProperty("type").GetString() == "row")
            {
                continue;
            }

            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            JsonElement[] targets = [.. panel.GetProperty("targets").EnumerateArray()];
            Assert.NotEmpty(targets);
            Assert.Equal(targets.Length, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), title));
        }
    }

    [Fact]
    public void TemplatesByClusterInstanceNamespacePodCommAndPid()
    {
        using JsonDocument doc = Load();
        string[] names = [.. Variables(doc).Select(v => v.GetProperty("name").GetString()!)];

        Assert.Equal(["datasource", "cluster", "instance", "namespace", "pod", "comm", "pid"], names);
    }

    /// <summary>
    /// A selector on a label its metric does not carry matches nothing once a value is picked (the Remediations panel
    /// filtered memwatch_remediations_total, which has no process labels, by comm and pid): each selector names only
    /// its metric's labels (docs/metrics.md), the target labels Prometheus adds, or an external <c>cluster</c> label.
    /// </summary>
    [Fact]
    public void SelectorsUseOnlyLabelsTheirMetricCarries()
    {
        string[] common = ["job", "instance", "node", "cluster"];
        string[] process = [.. common, "pid", "comm", "unit", "container_id", "pod", "namespace", "container"];
        using JsonDocument doc = Load();
        foreach (string expr in Expressions(doc))
        {
            foreach (Match m in Selector().Matches(expr))
            {
                string metric = m.Groups[1].Value;
                string[] allowed = metric switch
                {
                    _ when metric.StartsWith("memwatch_process_", StringComparison.Ordinal) || metric.StartsWith("memwatch_allocator_", StringComparison.Ordinal)
                        || metric.StartsWith("memwatch_verdict", StringComparison.Ordinal) || metric.StartsWith("memwatch_dotnet_", StringComparison.Ordinal)
                        || metric.StartsWith("memwatch:", StringComparison.Ordinal) => [.. process, "kind", "region", "allocator"],
                    "memwatch_remediations_total" => [.. common, "action", "result"],
                    _ => [.. common, "depth", "le", "reason", "version"],
                };
                foreach (Match label in Matcher().Matches(m.Groups[2].Value))
                {
                    Assert.True(allowed.Contains(label.Groups[1].Value), $"{metric} has no label {label.Groups[1].Value}: {expr}");
                }
            }
        }
    }

    [GeneratedRegex(@"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"([a-z_]+)\s*(=~|!~|!=|=)")]
    private static partial Regex Matcher();

    [Fact]
    public void UsesOnlyDefinedVariables()
    {
        using JsonDocument doc = Load();
        var defined = Variables(doc).Select(v => v.GetProperty("name").GetString()!).Concat(s_builtinVariables).ToHashSet();

        foreach (string expr in Expressions(doc))
        {
            foreach (Match m in VariableUse().Matches(expr))
            {
                Assert.True(defined.Contains(m.Groups[1].Value), $"${m.Groups[1].Value} in `{expr}` is not defined");
            }
        }
    }

    [Fact]
    public void EveryQueryParses()
    {
        using JsonDocument doc = Load();
        List<string> expressions = Expressions(doc);
        Assert.True(expressions.Count >= 20, $"{expressions.Count} expressions");

        // A known-bad query proves the server reports parse errors at all.
        Assert.NotNull(prometheus.ParseError("rate(memwatch_process_resident_bytes[5m]"));
        foreach (string expr in expressions)
        {
            string? error = prometheus.ParseError(Substitute(expr));
            Assert.True(error is null, $"`{expr}`: {error}");
        }
    }

    [Fact]
    public void QueriesOnlyContractMetrics()
    {
        using JsonDocument doc = Load();
        IReadOnlySet<string> queryable = MetricContract.Queryable();

        foreach (string expr in Expressions(doc))
        {
            IReadOnlySet<string> names = PromQlNames.In(expr);
            Assert.NotEmpty(names);
            Assert.All(names, n => Assert.True(queryable.Contains(n), $"'{n}' in `{expr}` is not a MemWatch metric"));
        }
    }

    /// <summary>What issue 6 asks a person to find first, each in some panel.</summary>
    [Theory]
    [InlineData("timeseries", "memwatch_process_resident_bytes", "memwatch_allocator_in_use_bytes", "memwatch_allocator_releasable_bytes")]
    [InlineData("state-timeline", "memwatch_verdict")]
    [InlineData("timeseries", "memwatch_process_seconds_to_limit")]
    [InlineData("timeseries", "memwatch_process_minor_faults_total", "memwatch_process_major_faults_total")]
    [InlineData("timeseries", "memwatch_process_cgroup_usage_bytes", "memwatch_process_cgroup_limit_bytes")]
    [InlineData("timeseries", "memwatch_sample_duration_seconds_bucket")]
    [InlineData("timeseries", "memwatch_sample_errors_total")]
    [InlineData("timeseries", "memwatch_last_sample_timestamp_seconds")]
    public void HasAPanelFor(string type, params string[] metrics)
    {
        using JsonDocument doc = Load();

        bool found = doc.RootElement.GetProperty("panels").EnumerateArray().Any(p =>
            p.GetProperty("type").GetString() == type &&
            metrics.All(m => p.GetProperty("targets").EnumerateArray().Any(t => PromQlNames.In(t.GetProperty("expr").GetString()!).Contains(m))));
        Assert.True(found, $"no {type} panel shows {string.Join(", ", metrics)}");
    }

    /// <summary>
    /// The verdict timeline turns the state set into one value per process (stable 0 ... leak 5) for its value
    /// mappings; promtool evaluates the panel's own query over series in which a process turns from retention to leak.
    /// </summary>
    [Fact]
    public void VerdictTimelineMapsKindsToTheirValues()
    {
        using JsonDocument doc = Load();
        JsonElement panel = doc.RootElement.GetProperty("panels").EnumerateArray().Single(p => p.GetProperty("type").GetString() == "state-timeline");
        string expr = Substitute(panel.GetProperty("targets")[0].GetProperty("expr").GetString()!);
        JsonElement mappings = panel.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("mappings")[0].GetProperty("options");
        Assert.Equal("allocator-retention", mappings.GetProperty("1").GetProperty("text").GetString());
        Assert.Equal("leak", mappings.GetProperty("5").GetProperty("text").GetString());

        string[] kinds = ["stable", "allocator-retention", "file-backed-growth", "managed-heap-growth", "unexplained-growth", "leak"];
        var series = string.Join('\n', kinds.Select(k =>
            $"      - series: 'memwatch_verdict{{instance=\"h1:9487\",job=\"memwatch\",pid=\"7\",comm=\"svc\",kind=\"{k}\"}}'\n" +
            $"        values: '{(k == "allocator-retention" ? "1 1 1 0 0 0" : k == "leak" ? "0 0 0 1 1 1" : "0 0 0 0 0 0")}'"));
        string indented = string.Join("\n", expr.Split('\n').Select(l => "          " + l));
        string test = $$"""
            rule_files: []
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
            {{series}}
                promql_expr_test:
                  - eval_time: 1m
                    expr: |
            {{indented}}
                    exp_samples:
                      - labels: '{instance="h1:9487",pid="7",comm="svc"}'
                        value: 1
                  - eval_time: 4m
                    expr: |
            {{indented}}
                    exp_samples:
                      - labels: '{instance="h1:9487",pid="7",comm="svc"}'
                        value: 5

            """;
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("verdict.test.yml"), test);

        ExternalTool.Result r = ExternalTool.Run("promtool", ["test", "rules", "verdict.test.yml"], dir.Path);
        Assert.True(r.ExitCode == 0, r.Output + "\n" + test);
    }

    private static IEnumerable<JsonElement> Variables(JsonDocument doc) =>
        doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray();

    /// <summary>Every panel query, and the selectors inside the variables' label_values(...).</summary>
    private static List<string> Expressions(JsonDocument doc)
    {
        var result = new List<string>();
        foreach (JsonElement panel in doc.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out JsonElement targets))
            {
                result.AddRange(targets.EnumerateArray().Select(t => t.GetProperty("expr").GetString()!));
            }
        }

        foreach (JsonElement v in Variables(doc))
        {
            if (v.GetProperty("type").GetString() == "query")
            {
                Match m = LabelValues().Match(v.GetProperty("query").GetProperty("query").GetString()!);
                Assert.True(m.Success, v.ToString());
                result.Add(m.Groups[1].Value);
            }
        }

        return result;
    }

    /// <summary>What Grafana sends for "All" (allValue .*) and the range variables.</summary>
    private static string Substitute(string expr) =>
        VariableUse().Replace(expr, m => m.Groups[1].Value.StartsWith("__", StringComparison.Ordinal) ? "1m" : ".*");

    [GeneratedRegex(@"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")]
    private static partial Regex VariableUse();

    [GeneratedRegex(@"^label_values\((.+),\s*[a-z_]+\)$")]
    private static partial Regex LabelValues();
}
