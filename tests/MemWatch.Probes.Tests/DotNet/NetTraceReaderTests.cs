using System.Buffers.Binary;
using System.Text;
using MemWatch.Probes.DotNet;

namespace MemWatch.Probes.Tests.DotNet;

/// <summary>
/// The bounds of <see cref="NetTraceReader"/> on hand-built streams: what a hostile runtime could send to make a parser
/// recurse, allocate or loop. The real capture and 100,000 mutations of it are in DotNetParserFuzzTests.
/// </summary>
public sealed class NetTraceReaderTests
{
    [Fact]
    public void Process_CounterEvent_DecodesNestedPayloadAndTimestamp()
    {
        byte[] stream = Stream(Block("MetadataBlock", Metadata(1, depth: 2)), Block("EventBlock", Event(1, timestamp: 3_000_000, CounterPayload())));
        var events = new List<(string Provider, double Ms, object? Name)>();
        var reader = new NetTraceReader(new MemoryStream(stream));
        reader.EventRead += e =>
        {
            IReadOnlyDictionary<string, object>? fields = NetTracePayload.TryDecode(e.Metadata, e.Payload.Span);
            object? name = (fields?[""] as IReadOnlyDictionary<string, object>)?["Payload"] is IReadOnlyDictionary<string, object> inner ? inner["Name"] : null;
            events.Add((e.ProviderName, e.TimestampMilliseconds, name));
        };

        reader.Process();

        Assert.Equal([("System.Runtime", 2.0, (object?)"gc-heap-size")], events);
    }

    [Fact]
    public void Process_PayloadDescriptionNestedBeyondTheBound_RefusedWithoutRecursingFurther()
    {
        byte[] within = Stream(Block("MetadataBlock", Metadata(1, depth: NetTraceMetadata.MaxFieldDepth)));
        byte[] beyond = Stream(Block("MetadataBlock", Metadata(1, depth: 10_000)));

        new NetTraceReader(new MemoryStream(within)).Process();
        var e = Assert.Throws<InvalidDataException>(() => new NetTraceReader(new MemoryStream(beyond)).Process());
        Assert.Contains("nested deeper", e.Message);
    }

    [Fact]
    public void Process_ObjectsNestedInsteadOfBlocks_Refused()
    {
        var nested = new MemoryStream();
        nested.Write(Stream()[..^1]);
        for (int i = 0; i < 100_000; i++)
        {
            nested.WriteByte(5);
        }

        Assert.Throws<InvalidDataException>(() => new NetTraceReader(new MemoryStream(nested.ToArray())).Process());
    }

    [Fact]
    public void Process_BlockLargerThanTheBound_RefusedBeforeReadingIt()
    {
        var s = new MemoryStream();
        s.Write(Stream()[..^1]);
        WriteTypeHeader(s, "EventBlock");
        s.Write(Int32(NetTraceReader.MaxBlockBytes + 1));

        var e = Assert.Throws<InvalidDataException>(() => new NetTraceReader(new MemoryStream(s.ToArray())).Process());
        Assert.Contains("block of", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(40)]
    public void Process_CutShort_EndOfStream(int keep)
    {
        byte[] whole = Stream(Block("MetadataBlock", Metadata(1, depth: 2)));
        Assert.ThrowsAny<IOException>(() => new NetTraceReader(new MemoryStream(whole[..keep])).Process());
    }

    [Fact]
    public void Process_PayloadSizePastTheBlock_Refused()
    {
        byte[] evt = Event(1, timestamp: 1, CounterPayload());
        evt[^(CounterPayload().Length + 1)] = 0x7F;
        byte[] stream = Stream(Block("MetadataBlock", Metadata(1, depth: 2)), Block("EventBlock", evt));

        Assert.Throws<InvalidDataException>(() => new NetTraceReader(new MemoryStream(stream)).Process());
    }

    /// <summary>Magic, serialization header, a Trace object (sync at 1,000,000 ticks of 1 GHz), the blocks, the end tag.</summary>
    private static byte[] Stream(params (string Type, byte[] Events)[] blocks)
    {
        var s = new MemoryStream();
        s.Write("Nettrace"u8);
        s.Write(Int32(20));
        s.Write("!FastSerialization.1"u8);
        WriteTypeHeader(s, "Trace", version: 4);
        s.Write(new byte[16]);
        s.Write(Int64(1_000_000));
        s.Write(Int64(1_000_000_000));
        s.Write(new byte[16]);
        s.WriteByte(6);
        foreach ((string type, byte[] events) in blocks)
        {
            WriteTypeHeader(s, type);
            byte[] content = [.. Int16(20), .. Int16(1), .. new byte[16], .. events];
            s.Write(Int32(content.Length));
            s.Write(new byte[(4 - (s.Position % 4)) % 4]);
            s.Write(content);
            s.WriteByte(6);
        }

        s.WriteByte(1);
        return s.ToArray();
    }

    private static void WriteTypeHeader(MemoryStream s, string type, int version = 2)
    {
        s.WriteByte(5);
        s.WriteByte(5);
        s.WriteByte(1);
        s.Write(Int32(version));
        s.Write(Int32(version));
        s.Write(Int32(type.Length));
        s.Write(Encoding.ASCII.GetBytes(type));
        s.WriteByte(6);
    }

    /// <summary>A block of compressed events (written by <see cref="Stream"/> with its 20-byte header and padding).</summary>
    private static (string Type, byte[] Events) Block(string type, byte[] events) => (type, events);

    /// <summary>A compressed event header (metadata id, timestamp, size) and the payload.</summary>
    private static byte[] Event(int metadataId, long timestamp, byte[] payload)
        => [0x80 | 0x01, .. Var((ulong)metadataId), .. Var((ulong)timestamp), .. Var((ulong)payload.Length), .. payload];

    /// <summary>A metadata record of System.Runtime's EventCounters, as a compressed event of metadata id 0.</summary>
    private static byte[] Metadata(int id, int depth)
    {
        var p = new MemoryStream();
        p.Write(Int32(id));
        p.Write(Utf16z("System.Runtime"));
        p.Write(Int32(0));
        p.Write(Utf16z("EventCounters"));
        p.Write(Int64(0));
        p.Write(Int32(0));
        p.Write(Int32(4));
        if (depth == 2)
        {
            p.Write([.. Int32(1), .. Int32(1), .. Int32(1), .. Int32(1), .. Int32(1), .. Int32(18), .. Utf16z("Name"), .. Utf16z("Payload"), .. Utf16z("")]);
        }
        else
        {
            // depth Objects, each with one field, the innermost an Int32.
            for (int i = 0; i < depth; i++)
            {
                p.Write([.. Int32(1), .. Int32(i == depth - 1 ? 9 : 1)]);
            }

            for (int i = 0; i < depth; i++)
            {
                p.Write(Utf16z("f"));
            }
        }

        byte[] payload = p.ToArray();
        return [0x80, .. Var(0), .. Var((ulong)payload.Length), .. payload];
    }

    private static byte[] CounterPayload() => Utf16z("gc-heap-size");

    private static byte[] Utf16z(string s) => [.. Encoding.Unicode.GetBytes(s), 0, 0];

    private static byte[] Var(ulong v)
    {
        var b = new List<byte>();
        do
        {
            byte x = (byte)(v & 0x7F);
            v >>= 7;
            b.Add(v != 0 ? (byte)(x | 0x80) : x);
        }
        while (v != 0);
        return [.. b];
    }

    private static byte[] Int16(short v)
    {
        byte[] b = new byte[2];
        BinaryPrimitives.WriteInt16LittleEndian(b, v);
        return b;
    }

    private static byte[] Int32(int v)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] Int64(long v)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, v);
        return b;
    }
}
