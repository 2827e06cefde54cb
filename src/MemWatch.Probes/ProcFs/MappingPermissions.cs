namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The <c>perms</c> column of <c>/proc/PID/maps</c> and <c>/proc/PID/smaps</c> (proc(5)): <c>r</c>, <c>w</c>, <c>x</c>,
/// and <c>s</c> (shared) or <c>p</c> (private, copy-on-write).
/// </summary>
[Flags]
public enum MappingPermissions : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,

    /// <summary>Set for <c>s</c>; clear for <c>p</c> (private).</summary>
    Shared = 8,
}
