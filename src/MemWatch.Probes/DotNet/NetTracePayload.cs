using System.Runtime.InteropServices;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// Decodes an event's payload by its metadata's field list: primitives little-endian and packed, strings NUL-terminated
/// UTF-16, Objects as nested dictionaries. Bounded by the payload's bytes and the metadata's (bounded) depth.
/// </summary>
internal static class NetTracePayload
{
    /// <summary>Longest string value read (counter names, units and metadata are short).</summary>
    internal const int MaxStringChars = 4096;

    /// <summary>EventPipe's type code for a Guid (System.TypeCode has none at 17).</summary>
    internal const TypeCode GuidTypeCode = (TypeCode)17;

    /// <summary>The payload's fields by name; null when the payload does not match its description.</summary>
    public static IReadOnlyDictionary<string, object>? TryDecode(NetTraceMetadata metadata, ReadOnlySpan<byte> payload)
    {
        var c = new NetTraceCursor(payload);
        try
        {
            return Read(ref c, metadata.Fields);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static Dictionary<string, object> Read(ref NetTraceCursor c, IReadOnlyList<NetTraceField> fields)
    {
        var values = new Dictionary<string, object>(fields.Count, StringComparer.Ordinal);
        foreach (NetTraceField f in fields)
        {
            values[f.Name] = f.Type switch
            {
                TypeCode.Object => Read(ref c, f.Fields),
                TypeCode.Boolean => c.ReadInt32() != 0,
                TypeCode.Char => (char)c.ReadUInt16(),
                TypeCode.SByte => (sbyte)c.ReadByte(),
                TypeCode.Byte => c.ReadByte(),
                TypeCode.Int16 => (short)c.ReadUInt16(),
                TypeCode.UInt16 => c.ReadUInt16(),
                TypeCode.Int32 => c.ReadInt32(),
                TypeCode.UInt32 => (uint)c.ReadInt32(),
                TypeCode.Int64 => c.ReadInt64(),
                TypeCode.UInt64 => (ulong)c.ReadInt64(),
                TypeCode.Single => MemoryMarshal.Read<float>(c.Take(4)),
                TypeCode.Double => MemoryMarshal.Read<double>(c.Take(8)),
                TypeCode.Decimal => c.Take(16).ToArray(),
                TypeCode.DateTime => c.ReadInt64(),
                TypeCode.String => c.ReadUtf16z(MaxStringChars),
                GuidTypeCode => new Guid(c.Take(16)),
                _ => throw new InvalidDataException($"nettrace: field type {f.Type}"),
            };
        }

        return values;
    }

    /// <summary>A numeric field as a double; false for anything else.</summary>
    public static bool TryGetNumber(IReadOnlyDictionary<string, object> values, string name, out double value)
    {
        value = values.TryGetValue(name, out object? v) ? v switch
        {
            double d => d,
            float f => f,
            int i => i,
            uint u => u,
            long l => l,
            ulong ul => ul,
            short s => s,
            ushort us => us,
            byte b => b,
            sbyte sb => sb,
            _ => double.NaN,
        } : double.NaN;
        return !double.IsNaN(value);
    }
}
