using System.Buffers;
using System.Buffers.Binary;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// Reads a nettrace (EventPipe) stream, versions 4 and 5, as a .NET runtime sends it: the <c>Nettrace</c> magic, the
/// FastSerialization header, a Trace object, then EventBlock, MetadataBlock, StackBlock and SPBlock objects until a
/// NullReference tag. Each event whose metadata arrived is raised through <see cref="EventRead"/>.
/// </summary>
/// <remarks>
/// The stream is the target's to write, so nothing in it is trusted: objects are not nested (a block is a sized byte
/// range, read whole into one bounded buffer), metadata nesting is bounded (<see cref="NetTraceMetadata.MaxFieldDepth"/>),
/// and so are a block's size, the metadata kept and every string. Malformed framing ends the read with
/// <see cref="InvalidDataException"/>, a cut stream with <see cref="EndOfStreamException"/>. TraceEvent, which MemWatch
/// used before, overflowed its stack on mutated streams (docs/security.md); <c>DotNetParserFuzzTests</c> runs this reader
/// on 100,000 of them.
/// </remarks>
internal sealed class NetTraceReader
{
    /// <summary>The runtime writes blocks of at most about 100 KiB.</summary>
    internal const int MaxBlockBytes = 1 << 20;

    /// <summary>Metadata records kept; a session of counters and GC events uses a few dozen.</summary>
    internal const int MaxMetadataRecords = 4096;

    /// <summary>Bytes of metadata payload kept over a stream.</summary>
    internal const long MaxMetadataBytes = 4 << 20;

    private const byte NullReferenceTag = 1;
    private const byte BeginPrivateObjectTag = 5;
    private const byte EndObjectTag = 6;
    private const int MaxTypeNameBytes = 64;
    private const int CompressedHeaders = 1;

    private static ReadOnlySpan<byte> Magic => "Nettrace"u8;

    private static ReadOnlySpan<byte> SerializationHeader => "!FastSerialization.1"u8;

    private readonly Stream _stream;
    private readonly Dictionary<int, NetTraceMetadata> _metadata = [];
    private long _metadataBytes;
    private long _position;
    private long _syncTimestamp;
    private long _frequency;

    public NetTraceReader(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>Raised on the reading thread for each event; its payload is valid only during the call.</summary>
    public event Action<NetTraceEvent>? EventRead;

    /// <summary>Reads the stream to its NullReference tag.</summary>
    /// <exception cref="InvalidDataException">Malformed or unsupported framing.</exception>
    /// <exception cref="EndOfStreamException">The stream ended before its end tag.</exception>
    public void Process()
    {
        Span<byte> header = stackalloc byte[8 + 4 + 20];
        ReadExactly(header);
        if (!header[..8].SequenceEqual(Magic)
            || BinaryPrimitives.ReadInt32LittleEndian(header[8..]) != SerializationHeader.Length
            || !header[12..].SequenceEqual(SerializationHeader))
        {
            throw new InvalidDataException("nettrace: no Nettrace/FastSerialization header");
        }

        bool sawTrace = false;
        byte[] block = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                byte tag = ReadByte();
                if (tag == NullReferenceTag)
                {
                    return;
                }

                Expect(tag, BeginPrivateObjectTag, "object");
                string type = ReadTypeName(out int version, out int minReaderVersion);
                if (!sawTrace)
                {
                    if (type != "Trace" || version < 4 || minReaderVersion > 5)
                    {
                        throw new InvalidDataException($"nettrace: first object {type} version {version}/{minReaderVersion}, not Trace 4 or 5");
                    }

                    ReadTrace();
                    sawTrace = true;
                }
                else if (type is "EventBlock" or "MetadataBlock" or "StackBlock" or "SPBlock")
                {
                    int size = ReadBlockInto(ref block);
                    if (type is "EventBlock" or "MetadataBlock")
                    {
                        ReadEvents(block.AsMemory(0, size), metadata: type == "MetadataBlock");
                    }
                }
                else
                {
                    throw new InvalidDataException($"nettrace: unknown object {type}");
                }

                Expect(ReadByte(), EndObjectTag, type);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    /// <summary>The type object: BeginPrivateObject, NullReference, version, minimum reader version, name, EndObject.</summary>
    private string ReadTypeName(out int version, out int minReaderVersion)
    {
        Expect(ReadByte(), BeginPrivateObjectTag, "type");
        Expect(ReadByte(), NullReferenceTag, "type of type");
        Span<byte> fields = stackalloc byte[12];
        ReadExactly(fields);
        version = BinaryPrimitives.ReadInt32LittleEndian(fields);
        minReaderVersion = BinaryPrimitives.ReadInt32LittleEndian(fields[4..]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(fields[8..]);
        if (length is <= 0 or > MaxTypeNameBytes)
        {
            throw new InvalidDataException($"nettrace: type name of {length} bytes");
        }

        Span<byte> name = stackalloc byte[length];
        ReadExactly(name);
        Expect(ReadByte(), EndObjectTag, "type");
        return System.Text.Encoding.ASCII.GetString(name);
    }

    /// <summary>SYSTEMTIME sync time, sync QPC, QPC frequency, pointer size, pid, processors, sampling rate.</summary>
    private void ReadTrace()
    {
        Span<byte> trace = stackalloc byte[16 + 8 + 8 + 4 * 4];
        ReadExactly(trace);
        _syncTimestamp = BinaryPrimitives.ReadInt64LittleEndian(trace[16..]);
        _frequency = BinaryPrimitives.ReadInt64LittleEndian(trace[24..]);
        if (_frequency <= 0)
        {
            throw new InvalidDataException($"nettrace: timestamp frequency {_frequency}");
        }
    }

    /// <summary>A block's size, its padding to a 4-byte stream offset, then its bytes into <paramref name="buffer"/>.</summary>
    private int ReadBlockInto(ref byte[] buffer)
    {
        Span<byte> sizeBytes = stackalloc byte[4];
        ReadExactly(sizeBytes);
        int size = BinaryPrimitives.ReadInt32LittleEndian(sizeBytes);
        if (size is < 0 or > MaxBlockBytes)
        {
            throw new InvalidDataException($"nettrace: block of {size} bytes (at most {MaxBlockBytes})");
        }

        Span<byte> padding = stackalloc byte[4];
        ReadExactly(padding[..(int)((4 - (_position & 3)) & 3)]);
        if (buffer.Length < size)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(size);
        }

        ReadExactly(buffer.AsSpan(0, size));
        return size;
    }

    /// <summary>The events (or metadata records) of one EventBlock or MetadataBlock.</summary>
    private void ReadEvents(ReadOnlyMemory<byte> block, bool metadata)
    {
        var c = new NetTraceCursor(block.Span);
        int headerSize = c.ReadUInt16();
        int flags = c.ReadUInt16();
        if (headerSize < 4)
        {
            throw new InvalidDataException($"nettrace: block header of {headerSize} bytes");
        }

        c.Skip(headerSize - 4);
        bool compressed = (flags & CompressedHeaders) != 0;

        // Header compression: each field is relative to the previous event's; all start at zero in each block.
        int metadataId = 0;
        long timestamp = 0;
        int payloadSize = 0;
        while (c.Remaining > 0)
        {
            if (compressed)
            {
                ReadCompressedHeader(ref c, ref metadataId, ref timestamp, ref payloadSize);
            }
            else
            {
                ReadUncompressedHeader(ref c, out metadataId, out timestamp, out payloadSize);
            }

            int start = c.Position;
            c.Skip(payloadSize);
            if (!compressed)
            {
                c.Skip(Math.Min(c.Remaining, (4 - (c.Position & 3)) & 3));
            }

            ReadOnlyMemory<byte> payload = block.Slice(start, payloadSize);
            if (metadata)
            {
                Define(payload.Span);
            }
            else if (_metadata.TryGetValue(metadataId, out NetTraceMetadata? m))
            {
                EventRead?.Invoke(new NetTraceEvent(m, timestamp, (timestamp - _syncTimestamp) * 1000.0 / _frequency, payload));
            }
        }
    }

    private static void ReadCompressedHeader(ref NetTraceCursor c, ref int metadataId, ref long timestamp, ref int payloadSize)
    {
        byte flags = c.ReadByte();
        if ((flags & 1) != 0)
        {
            metadataId = (int)(c.ReadVarUInt32() & 0x7FFFFFFF);
        }

        if ((flags & 2) != 0)
        {
            c.ReadVarUInt32();
            c.ReadVarUInt64();
            c.ReadVarUInt32();
        }

        if ((flags & 4) != 0)
        {
            c.ReadVarUInt64();
        }

        if ((flags & 8) != 0)
        {
            c.ReadVarUInt32();
        }

        timestamp = unchecked(timestamp + (long)c.ReadVarUInt64());
        if ((flags & 16) != 0)
        {
            c.Skip(16);
        }

        if ((flags & 32) != 0)
        {
            c.Skip(16);
        }

        if ((flags & 128) != 0)
        {
            uint size = c.ReadVarUInt32();
            payloadSize = size <= int.MaxValue ? (int)size : throw new InvalidDataException($"nettrace: payload of {size} bytes");
        }
    }

    /// <summary>Size, metadata id, sequence, thread, capture thread, processor, stack, timestamp, two GUIDs, payload size.</summary>
    private static void ReadUncompressedHeader(ref NetTraceCursor c, out int metadataId, out long timestamp, out int payloadSize)
    {
        c.ReadInt32();
        metadataId = c.ReadInt32() & 0x7FFFFFFF;
        c.Skip(4 + 8 + 8 + 4 + 4);
        timestamp = c.ReadInt64();
        c.Skip(32);
        payloadSize = c.ReadCount(c.Remaining, "payload size");
    }

    private void Define(ReadOnlySpan<byte> payload)
    {
        NetTraceMetadata m = NetTraceMetadata.Parse(payload);
        _metadataBytes += payload.Length;
        if (_metadataBytes > MaxMetadataBytes || (_metadata.Count >= MaxMetadataRecords && !_metadata.ContainsKey(m.Id)))
        {
            throw new InvalidDataException($"nettrace: more metadata than {MaxMetadataRecords} records or {MaxMetadataBytes} bytes");
        }

        _metadata[m.Id] = m;
    }

    private static void Expect(byte tag, byte expected, string what)
    {
        if (tag != expected)
        {
            throw new InvalidDataException($"nettrace: tag {tag} where {what} wants {expected}");
        }
    }

    private byte ReadByte()
    {
        Span<byte> b = stackalloc byte[1];
        ReadExactly(b);
        return b[0];
    }

    private void ReadExactly(Span<byte> destination)
    {
        _stream.ReadExactly(destination);
        _position += destination.Length;
    }
}
