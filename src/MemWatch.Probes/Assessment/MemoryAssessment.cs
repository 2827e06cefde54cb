using MemWatch.Probes.Analysis;
using MemWatch.Probes.Verdicts;

namespace MemWatch.Probes.Assessment;

/// <summary>One process's memory over a window: how it grows, when it reaches its limit, and why.</summary>
/// <param name="Growth">Theil-Sen trends of the window's series.</param>
/// <param name="Forecast">Time to the cgroup's limit, or the host's when the cgroup has none.</param>
/// <param name="Verdict">The classifier's answer; null below <see cref="ProcessAssessment.MinSamples"/> samples.</param>
/// <param name="Declared">Time to the limit the process declares for itself, and whether it comes before the cgroup's (or the host's); null without one.</param>
public sealed record MemoryAssessment(WindowGrowth Growth, ForecastResult Forecast, Verdict? Verdict, DeclaredLimitForecast? Declared = null);
