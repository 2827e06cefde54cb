namespace MemWatch.Probes.Analysis;

/// <summary>
/// Memory pressure stall averages, in percent of wall time, from <c>memory.pressure</c> of a cgroup v2 or
/// <c>/proc/pressure/memory</c> (Documentation/accounting/psi.rst): "some" = at least one task stalled on memory,
/// "full" = all non-idle tasks stalled at once.
/// </summary>
public readonly record struct PressureAverages(double SomeAvg10, double SomeAvg60, double FullAvg10, double FullAvg60);
