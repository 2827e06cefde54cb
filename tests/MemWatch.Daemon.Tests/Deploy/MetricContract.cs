using System.Text.RegularExpressions;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// The metric names the daemon exports (the shared contract in README.md, "Metrics"): the only names deploy/ may query,
/// besides Prometheus's own <c>up</c> and the recording rules of deploy/prometheus/memwatch.rules.yml.
/// </summary>
public static partial class MetricContract
{
    public static readonly IReadOnlySet<string> Exported = new HashSet<string>(StringComparer.Ordinal)
    {
        "memwatch_process_resident_bytes", "memwatch_process_proportional_bytes", "memwatch_process_anonymous_bytes",
        "memwatch_process_file_bytes", "memwatch_process_shmem_bytes", "memwatch_process_swap_bytes",
        "memwatch_process_resident_high_water_bytes", "memwatch_process_region_resident_bytes",
        "memwatch_process_glibc_arenas", "memwatch_process_minor_faults_total", "memwatch_process_major_faults_total",
        "memwatch_process_cgroup_limit_bytes", "memwatch_process_cgroup_usage_bytes", "memwatch_process_cgroup_oom_kills_total",
        "memwatch_allocator_in_use_bytes", "memwatch_allocator_free_bytes", "memwatch_allocator_releasable_bytes",
        "memwatch_process_injection_quarantined",
        "memwatch_process_growth_bytes_per_second", "memwatch_process_seconds_to_limit", "memwatch_process_forecast_limit_bytes",
        "memwatch_verdict", "memwatch_verdict_confidence", "memwatch_dotnet_gc_heap_bytes", "memwatch_dotnet_gc_committed_bytes",
        "memwatch_remediations_total", "memwatch_sample_errors_total", "memwatch_targets",
        "memwatch_last_sample_timestamp_seconds", "memwatch_build_info",
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds", "dotnet_collection_count_total", "dotnet_total_memory_bytes",
        // memwatch_sample_duration_seconds is a histogram: its series are these three.
        "memwatch_sample_duration_seconds_bucket", "memwatch_sample_duration_seconds_sum", "memwatch_sample_duration_seconds_count",
    };

    /// <summary>Names defined by the <c>record:</c> lines of the rules file.</summary>
    public static IReadOnlySet<string> RecordingRules()
    {
        string rules = DeployTree.ReadAllText("prometheus", "memwatch.rules.yml");
        return RecordLine().Matches(rules).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Every name a PromQL expression may use: exported, recorded, and <c>up</c>.</summary>
    public static IReadOnlySet<string> Queryable()
    {
        var all = new HashSet<string>(Exported, StringComparer.Ordinal) { "up" };
        all.UnionWith(RecordingRules());
        return all;
    }

    [GeneratedRegex(@"^\s*- record: ([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$", RegexOptions.Multiline)]
    private static partial Regex RecordLine();
}
