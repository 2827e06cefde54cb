namespace MemWatch.Probes.Runtimes;

/// <summary>One generation or space of a runtime's heap as the runtime counts it.</summary>
/// <param name="Name">The runtime's name for it (e.g. <c>old</c>, <c>eden</c>, <c>metaspace</c>).</param>
/// <param name="UsedBytes">Bytes of objects in it (live or not yet collected).</param>
/// <param name="CommittedBytes">Bytes the runtime has committed for it.</param>
/// <param name="MaxBytes">The most it may grow to; null when unbounded or unknown.</param>
public sealed record RuntimeSpace(string Name, ulong UsedBytes, ulong CommittedBytes, ulong? MaxBytes)
{
    /// <summary>V8: bytes of the space's committed pages that are resident (physical_space_size); null elsewhere.</summary>
    public ulong? PhysicalBytes { get; init; }
}
