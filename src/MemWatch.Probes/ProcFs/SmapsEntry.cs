namespace MemWatch.Probes.ProcFs;

/// <summary>
/// One record of <c>/proc/PID/smaps</c>: the mapping line and its fields. Valid until the reader moves on
/// (<see cref="MappingHeader.Path"/> points into the reader's buffer, <see cref="Fields"/> into the reader).
/// </summary>
public readonly ref struct SmapsEntry
{
    private readonly ref readonly SmapsFields _fields;

    internal SmapsEntry(MappingHeader header, ref readonly SmapsFields fields)
    {
        Header = header;
        _fields = ref fields;
    }

    public MappingHeader Header { get; }

    /// <summary>The record's fields, by reference (copy the struct to keep them).</summary>
    public ref readonly SmapsFields Fields => ref _fields;
}
