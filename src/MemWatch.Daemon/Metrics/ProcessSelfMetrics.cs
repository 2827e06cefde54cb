using MemWatch.Probes.ProcFs;

namespace MemWatch.Daemon.Metrics;

/// <summary>
/// The daemon's own process and runtime, under the names every Prometheus client library uses
/// (<c>process_cpu_seconds_total</c>, <c>process_resident_memory_bytes</c>, ...; prometheus-net's
/// <c>dotnet_collection_count_total</c> and <c>dotnet_total_memory_bytes</c>), so the usual "exporter overhead"
/// dashboards and alerts work unchanged. prometheus-net's own process collector names its series differently
/// (process_working_set_bytes, process_open_handles, ...) and the exposition stays hand-written (docs/metrics.md).
/// </summary>
internal sealed class ProcessSelfMetrics(ProcFileSystem self)
{
    private static readonly LabelSet[] s_generations = [LabelSet.Create(("generation", "0")), LabelSet.Create(("generation", "1")), LabelSet.Create(("generation", "2"))];
    private static readonly double s_startTimeSeconds = StartTimeSeconds();
    private readonly FileBuffer _buffer = new(1024);
    private readonly Lock _lock = new();

    public void Render(ExpositionWriter w)
    {
        ProcStat? stat;
        lock (_lock)
        {
            stat = ProcStat.TryRead(self, Environment.ProcessId, _buffer, out ProcStat? s) ? s : null;
        }

        w.Family("process_cpu_seconds", MetricType.Counter, "Total user and system CPU time spent in seconds.", "seconds");
        w.Sample("process_cpu_seconds", LabelSet.Empty, Environment.CpuUsage.TotalTime.TotalSeconds);

        if (stat is not null)
        {
            w.Family("process_virtual_memory_bytes", MetricType.Gauge, "Virtual memory size in bytes.", "bytes");
            w.Sample("process_virtual_memory_bytes", LabelSet.Empty, stat.VirtualSizeBytes);
            w.Family("process_resident_memory_bytes", MetricType.Gauge, "Resident memory size in bytes.", "bytes");
            w.Sample("process_resident_memory_bytes", LabelSet.Empty, stat.RssBytes);
        }

        if (OpenDescriptors.Count(self, Environment.ProcessId) is { } open)
        {
            w.Family("process_open_fds", MetricType.Gauge, "Number of open file descriptors.");
            w.Sample("process_open_fds", LabelSet.Empty, open);
        }

        if (OpenFileLimit.Current() is { } max)
        {
            w.Family("process_max_fds", MetricType.Gauge, "Maximum number of open file descriptors.");
            w.Sample("process_max_fds", LabelSet.Empty, max);
        }

        w.Family("process_start_time_seconds", MetricType.Gauge, "Start time of the process since unix epoch in seconds.", "seconds");
        w.Sample("process_start_time_seconds", LabelSet.Empty, s_startTimeSeconds);

        w.Family("dotnet_collection_count", MetricType.Counter, "GC collection count");
        for (int g = 0; g < s_generations.Length; g++)
        {
            w.Sample("dotnet_collection_count", s_generations[g], GC.CollectionCount(g));
        }

        w.Family("dotnet_total_memory_bytes", MetricType.Gauge, "Total known allocated memory", "bytes");
        w.Sample("dotnet_total_memory_bytes", LabelSet.Empty, GC.GetTotalMemory(forceFullCollection: false));
    }

    private static double StartTimeSeconds()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
    }
}
