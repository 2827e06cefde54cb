namespace MemWatch.Daemon.Metrics;

/// <summary>The three read depths of the sampler, the <c>depth</c> label of memwatch_sample_duration_seconds.</summary>
internal enum SampleDepth
{
    Status,
    Rollup,
    Smaps,
}
