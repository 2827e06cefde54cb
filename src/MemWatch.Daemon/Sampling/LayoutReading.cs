namespace MemWatch.Daemon.Sampling;

/// <summary>The region model of a target at its last full smaps read.</summary>
/// <param name="RegionRssBytes">RSS per <see cref="MemWatch.Probes.Regions.RegionKind"/>, indexed by its value.</param>
internal sealed record LayoutReading(long UnixMilliseconds, ulong[] RegionRssBytes, int Arenas, string Allocator, bool DotNetRuntime, double ReadSeconds);
