namespace MemWatch.Probes.Analysis;

/// <summary>Page-fault rates from the cumulative minflt/majflt counters of <c>/proc/[pid]/stat</c> over part of a window.</summary>
/// <param name="MinorPerSecond">Minor faults per second: pages first touched (the kernel supplied a zeroed or cached page).</param>
/// <param name="MajorPerSecond">Major faults per second: pages that needed I/O.</param>
/// <param name="Seconds">The time the rates cover; intervals across a counter reset are left out.</param>
/// <param name="CounterResets">Intervals left out because a counter went backwards.</param>
public readonly record struct FaultRates(double MinorPerSecond, double MajorPerSecond, double Seconds, int CounterResets);
