namespace MemWatch.Probes.Injection;

/// <summary>One line of <c>/proc/PID/maps</c> as the injector needs it (proc(5)).</summary>
/// <param name="Start">First address.</param>
/// <param name="End">Address after the last byte.</param>
/// <param name="Readable">r permission.</param>
/// <param name="Writable">w permission.</param>
/// <param name="Executable">x permission.</param>
/// <param name="Offset">File offset of Start.</param>
/// <param name="Inode">Inode of the file; 0 when anonymous.</param>
/// <param name="Device">major:minor of the file; only kept for executable mappings.</param>
/// <param name="Path">The file or pseudo-name (<c>[stack]</c>, <c>[heap]</c>); null when anonymous. Only kept for executable mappings and pseudo-names.</param>
internal readonly record struct TargetMapping(
    ulong Start,
    ulong End,
    bool Readable,
    bool Writable,
    bool Executable,
    ulong Offset,
    ulong Inode,
    string? Device,
    string? Path)
{
    public bool Contains(ulong address) => address >= Start && address < End;

    public bool IsMainStack => Path == "[stack]";

    /// <summary>No access at all: a guard page (glibc puts one below every thread stack it maps).</summary>
    public bool IsGuard => !Readable && !Writable && !Executable;
}
