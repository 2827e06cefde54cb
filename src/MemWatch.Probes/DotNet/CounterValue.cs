namespace MemWatch.Probes.DotNet;

/// <summary>One EventCounter reading: its Mean (polling counters) or Increment (incrementing counters), and the interval.</summary>
internal readonly record struct CounterValue(double Value, double IntervalSeconds);
