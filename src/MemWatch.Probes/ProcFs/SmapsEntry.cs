namespace MemWatch.Probes.ProcFs;

/// <summary>
/// One record of <c>/proc/PID/smaps</c>: the mapping line and its fields. Valid until the reader moves on
/// (<see cref="MappingHeader.Path"/> points into the reader's buffer).
/// </summary>
public readonly ref struct SmapsEntry
{
    public SmapsEntry(MappingHeader header, scoped in SmapsFields fields)
    {
        Header = header;
        Fields = fields;
    }

    public MappingHeader Header { get; }

    public SmapsFields Fields { get; }
}
