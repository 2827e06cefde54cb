namespace MemWatch.Probes.DotNet;

/// <summary>
/// What a metadata record of a nettrace stream says of one kind of event: provider, id, name, version and the layout
/// of its payload (V1 field descriptions; the V2 form is only needed for array fields, which no event MemWatch reads has).
/// </summary>
internal sealed class NetTraceMetadata
{
    /// <summary>Nesting of Object fields; EventCounters use two levels.</summary>
    internal const int MaxFieldDepth = 8;

    /// <summary>Fields of one object; an EventCounters payload has about twelve.</summary>
    internal const int MaxFields = 128;

    /// <summary>Characters of a provider, event or field name.</summary>
    internal const int MaxNameChars = 256;

    private const int OpcodeTag = 1;

    private NetTraceMetadata(int id, string providerName, int eventId, string eventName, int version, IReadOnlyList<NetTraceField> fields)
    {
        Id = id;
        ProviderName = providerName;
        EventId = eventId;
        EventName = eventName;
        Version = version;
        Fields = fields;
    }

    public int Id { get; }

    public string ProviderName { get; }

    public int EventId { get; }

    /// <summary>The event's name (the runtime's own events come without one: they are known by provider and id).</summary>
    public string EventName { get; }

    public int Version { get; }

    public IReadOnlyList<NetTraceField> Fields { get; }

    /// <summary>Parses a metadata record's payload.</summary>
    /// <exception cref="InvalidDataException">The record is malformed or beyond the bounds above.</exception>
    public static NetTraceMetadata Parse(ReadOnlySpan<byte> payload)
    {
        var c = new NetTraceCursor(payload);
        int id = c.ReadInt32();
        string provider = c.ReadUtf16z(MaxNameChars);
        int eventId = c.ReadInt32();
        string eventName = c.ReadUtf16z(MaxNameChars);
        c.ReadInt64();
        int version = c.ReadInt32();
        c.ReadInt32();
        IReadOnlyList<NetTraceField> fields = c.Remaining >= 4 ? ReadFields(ref c, depth: 1) : [];

        // V5's optional tags (opcode, V2 parameters), each sized: checked for framing, not used.
        while (c.Remaining > 0)
        {
            int size = c.ReadCount(c.Remaining, "metadata tag size");
            byte kind = c.ReadByte();
            c.Skip(kind == OpcodeTag ? Math.Min(size, 1) : size);
        }

        return id > 0
            ? new NetTraceMetadata(id, provider, eventId, eventName, version, fields)
            : throw new InvalidDataException($"nettrace: metadata id {id}");
    }

    /// <summary>A field count and that many fields; depth is bounded, so the recursion is too.</summary>
    private static NetTraceField[] ReadFields(ref NetTraceCursor c, int depth)
    {
        if (depth > MaxFieldDepth)
        {
            throw new InvalidDataException($"nettrace: payload description nested deeper than {MaxFieldDepth}");
        }

        int count = c.ReadCount(MaxFields, "field count");
        var fields = new NetTraceField[count];
        for (int i = 0; i < count; i++)
        {
            int type = c.ReadInt32();
            if (type is < (int)TypeCode.Object or > (int)TypeCode.String or (int)TypeCode.DBNull)
            {
                throw new InvalidDataException($"nettrace: field type code {type}");
            }

            NetTraceField[] nested = type == (int)TypeCode.Object ? ReadFields(ref c, depth + 1) : [];
            fields[i] = new NetTraceField(c.ReadUtf16z(MaxNameChars), (TypeCode)type, nested);
        }

        return fields;
    }
}
