namespace MemWatch.Probes.ProcFs;

/// <summary>
/// A mapping line of <c>/proc/PID/maps</c> (proc(5)) copied out of the reader's buffer, for callers that keep mappings
/// (symbol lookup by load base, for example). See <see cref="MappingHeader"/> for the columns.
/// </summary>
public sealed record MapsEntry(
    ulong StartAddress,
    ulong EndAddress,
    MappingPermissions Permissions,
    ulong Offset,
    uint DeviceMajor,
    uint DeviceMinor,
    ulong Inode,
    string Path)
{
    public ulong SizeBytes => EndAddress - StartAddress;
}
