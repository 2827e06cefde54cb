using System.Text;
using System.Text.RegularExpressions;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Metrics;

/// <summary>
/// The daemon's /metrics on a fixture tree, as node_exporter's end-to-end test does it: the published executable runs
/// with <c>--proc-root</c> and <c>--sys-root</c> on Fixtures/daemon (two processes, one in a cgroup v2 service with a
/// 2 GiB limit, one in a session scope without a limit), and its exposition, in both formats, must equal the golden
/// files byte for byte once the values that vary from run to run (durations, timestamps, the daemon's own process and
/// runtime, the version) are replaced by <c>X</c>. A deliberate change to the contract regenerates them with
/// <c>MEMWATCH_UPDATE_GOLDEN=1 dotnet test tests/MemWatch.Daemon.Tests --filter MetricsGoldenTests</c>.
/// </summary>
public sealed class MetricsGoldenTests
{
    private static readonly string s_fixture = Path.Combine(AppContext.BaseDirectory, "Metrics", "Fixtures", "daemon");

    /// <summary>Series of docs/metrics.md that a fixture tree cannot produce, with the reason (also in docs/metrics.md).</summary>
    public static readonly IReadOnlyDictionary<string, string> NotInGolden = new Dictionary<string, string>
    {
        ["memwatch_allocator_in_use_bytes"] = "introspection: ptrace remote calls into a live process",
        ["memwatch_allocator_free_bytes"] = "introspection: ptrace remote calls into a live process",
        ["memwatch_allocator_releasable_bytes"] = "introspection: ptrace remote calls into a live process",
        ["memwatch_process_injection_quarantined"] = "only after a remote call outlived its timeout",
        ["memwatch_process_seconds_to_limit"] = "only for a growing process: the fixture does not change",
        ["memwatch_dotnet_gc_heap_bytes"] = ".NET: the runtime's diagnostic socket",
        ["memwatch_dotnet_gc_committed_bytes"] = ".NET: the runtime's diagnostic socket",
        ["memwatch_dotnet_gc_generation_bytes"] = ".NET: the runtime's diagnostic socket",
        ["memwatch_dotnet_gc_fragmentation_bytes"] = ".NET: the runtime's diagnostic socket",
        ["memwatch_dotnet_gc_allocated_since_last_gc_bytes"] = ".NET: the runtime's diagnostic socket",
        ["memwatch_dotnet_allocation_rate_bytes_per_second"] = ".NET: the runtime's diagnostic socket",
        ["memwatch_runtime_heap_used_bytes"] = "runtimes are recognised from the modules' ELF files, read through the process",
        ["memwatch_runtime_heap_committed_bytes"] = "runtimes are recognised from the modules' ELF files, read through the process",
        ["memwatch_runtime_heap_max_bytes"] = "runtimes are recognised from the modules' ELF files, read through the process",
        ["memwatch_runtime_heap_idle_bytes"] = "runtimes are recognised from the modules' ELF files, read through the process",
        ["memwatch_runtime_heap_released_bytes"] = "runtimes are recognised from the modules' ELF files, read through the process",
        ["memwatch_runtime_pymalloc_pools_in_use_bytes"] = "runtimes are recognised from the modules' ELF files, read through the process",
        ["memwatch_process_declared_limit_bytes"] = "resolved for a recognised runtime only",
    };

    // Values that differ between runs: how long reads took, when, and the daemon's own process and runtime.
    private static readonly Regex s_volatile = new(
        @"^((?:memwatch_sample_duration_seconds|memwatch_last_sample_timestamp_seconds|process_|dotnet_)[^ ]*) [^ ]+$",
        RegexOptions.Multiline | RegexOptions.CultureInvariant);

    private static readonly Regex s_version = new(@"memwatch_build_info\{version=""[^""]*""\}", RegexOptions.CultureInvariant);

    [Fact]
    public void DaemonOnTheFixtureTree_ExposesTheGoldenMetrics()
    {
        using DaemonProcess daemon = Start();

        // Both targets classified, with their regions read: every series the fixture can give is there.
        string text = Poll.Until(() =>
        {
            string t = daemon.Metrics();
            return Regex.Matches(t, @"^memwatch_verdict_confidence\{", RegexOptions.Multiline).Count == 2
                && Regex.Matches(t, @"^memwatch_process_region_resident_bytes\{[^}]*region=""heap""", RegexOptions.Multiline).Count == 2
                && t.Contains("\nmemwatch_process_forecast_limit_bytes{pid=\"17201\"", StringComparison.Ordinal)
                ? t : null;
        }, TimeSpan.FromMinutes(2), () => $"the daemon did not classify both fixture targets:\n{daemon.Metrics()}\n{daemon.Output}");
        string openMetrics = daemon.Metrics("application/openmetrics-text; version=1.0.0");

        Compare("metrics.txt", Normalize(text));
        Compare("metrics.openmetrics.txt", Normalize(openMetrics));
    }

    [Fact]
    public void EverySeriesOfTheContractIsInTheGoldenFileOrExplained()
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "metrics.md"));
        string golden = File.ReadAllText(Path.Combine(s_fixture, "metrics.txt"));
        var named = Regex.Matches(docs, @"^\| `(?<name>[a-z_]+)` \|", RegexOptions.Multiline).Select(m => m.Groups["name"].Value)
            .Concat(Regex.Matches(docs, @"`(?<name>(?:process|dotnet)_[a-z_]+)`").Select(m => m.Groups["name"].Value))
            .Distinct().ToList();
        Assert.True(named.Count > 40, $"only {named.Count} series found in docs/metrics.md");

        var missing = named.Where(n => !NotInGolden.ContainsKey(n) && !Regex.IsMatch(golden, $@"^{n}(?:_bucket|_sum|_count)?[{{ ]", RegexOptions.Multiline)).ToList();
        Assert.True(missing.Count == 0, "in docs/metrics.md but not in the golden exposition: " + string.Join(", ", missing));

        var present = NotInGolden.Keys.Where(n => Regex.IsMatch(golden, $@"^{n}[{{ ]", RegexOptions.Multiline)).ToList();
        Assert.True(present.Count == 0, "listed as absent but in the golden exposition: " + string.Join(", ", present));
        foreach (string n in NotInGolden.Keys)
        {
            Assert.Contains($"`{n}`", docs, StringComparison.Ordinal);
        }
    }

    private static DaemonProcess Start() => DaemonProcess.Start(config =>
    {
        config["Sampling"] = new Dictionary<string, object?>
        {
            ["Interval"] = "00:00:01",
            ["RollupInterval"] = "00:00:01",
            ["SmapsInterval"] = "00:00:01",
            ["Window"] = "00:05:00",
            ["ProcRoot"] = "/nonexistent-overridden-by-the-command-line",
        };
        config["Targets"] = new object[]
        {
            new Dictionary<string, object?> { ["Name"] = "fixture", ["Cmdline"] = "procfs-target|worker" },
        };
    }, arguments: ["--proc-root", Path.Combine(s_fixture, "proc"), "--sys-root", Path.Combine(s_fixture, "sys")]);

    private static string Normalize(string exposition)
    {
        string text = s_volatile.Replace(exposition, "$1 X");
        return s_version.Replace(text, "memwatch_build_info{version=\"X\"}");
    }

    private static void Compare(string file, string actual)
    {
        if (Environment.GetEnvironmentVariable("MEMWATCH_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(RepositoryRoot(), "tests", "MemWatch.Daemon.Tests", "Metrics", "Fixtures", "daemon", file), actual, new UTF8Encoding(false));
            return;
        }

        Assert.Equal(File.ReadAllText(Path.Combine(s_fixture, file)), actual);
    }

    private static string RepositoryRoot() =>
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
}
