using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Regions;

/// <summary>
/// What <see cref="RegionClassifier"/> keeps of a mapping while it waits for the next one (the path is gone by then, so
/// the path-derived kind is decided on arrival).
/// </summary>
internal struct PendingMapping
{
    public ulong Start;
    public ulong End;
    public MappingPermissions Permissions;

    /// <summary>The kind the path gives; <see cref="RegionKind.Anon"/> means private anonymous, decided later.</summary>
    public RegionKind PathKind;
    public RegionTotals Amount;

    public readonly ulong Size => End - Start;

    /// <summary>The r/w/x bits without the shared bit.</summary>
    public readonly MappingPermissions Access => Permissions & (MappingPermissions.Read | MappingPermissions.Write | MappingPermissions.Execute);

    public readonly bool IsReadWrite => Access == (MappingPermissions.Read | MappingPermissions.Write);

    public readonly bool IsNoAccess => Access == MappingPermissions.None;
}
