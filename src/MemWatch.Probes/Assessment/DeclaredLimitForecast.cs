using MemWatch.Probes.Runtimes;

namespace MemWatch.Probes.Assessment;

/// <summary>When a process reaches the limit it declares for itself (-Xmx, GOMEMLIMIT, memcached -m...) at its trend.</summary>
/// <param name="Limit">The declared limit.</param>
/// <param name="CurrentBytes">What the limit bounds now: the runtime's committed heap, or RSS for a cache or a heap without figures.</param>
/// <param name="SecondsToLimit">At the RSS trend's median; null when not growing or already there.</param>
/// <param name="ComesFirst">True when the declared limit is reached before the cgroup's (or the host's) limit.</param>
public sealed record DeclaredLimitForecast(DeclaredLimit Limit, double CurrentBytes, double? SecondsToLimit, bool ComesFirst);
