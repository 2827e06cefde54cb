namespace MemWatch.Daemon.Metrics;

internal enum MetricType
{
    Gauge,
    Counter,
    Histogram,

    /// <summary>An OpenMetrics state set; written as a gauge in the 0.0.4 text format.</summary>
    StateSet,
}
