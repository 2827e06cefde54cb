namespace MemWatch.Probes.SafePoints;

/// <summary>Target addresses [Start, End) whose code may hold a lock the injected calls need.</summary>
public readonly record struct CriticalRegion(ulong Start, ulong End, CriticalRegionKind Kind, string Name)
{
    public bool Contains(ulong pc) => pc >= Start && pc < End;
}
