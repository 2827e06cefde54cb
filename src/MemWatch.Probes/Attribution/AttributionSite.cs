namespace MemWatch.Probes.Attribution;

/// <summary>
/// One call stack that caused growth: <see cref="Frames"/> innermost first; <see cref="Bytes"/> resident bytes it
/// faulted in during the capture that were still mapped at its end; <see cref="Share"/> of all such bytes;
/// <see cref="MappedBytes"/> address space it mapped (mmap, brk and mremap growth), for comparison.
/// </summary>
public sealed record AttributionSite(IReadOnlyList<AttributionFrame> Frames, long Bytes, double Share, long MappedBytes);
