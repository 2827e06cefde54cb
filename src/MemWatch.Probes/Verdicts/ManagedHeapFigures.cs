namespace MemWatch.Probes.Verdicts;

/// <summary>A .NET runtime's GC figures for one moment (filled by the .NET probe when the target runs .NET).</summary>
/// <param name="GcHeapBytes">Bytes of the GC heap (live objects and fragmentation).</param>
/// <param name="GcCommittedBytes">Memory the GC has committed.</param>
public sealed record ManagedHeapFigures(ulong GcHeapBytes, ulong GcCommittedBytes);
