using System.Buffers.Binary;
using System.Text;

namespace MemWatch.Probes.Runtimes.Jvm;

/// <summary>
/// The counters of a HotSpot performance-data file (<c>/tmp/hsperfdata_USER/PID</c>, written by the JVM unless
/// <c>-XX:-UsePerfData</c>): a 32-byte prologue (magic 0xcafec0c0, byte order, version, entry offset and count) and
/// entries of name, type and value. Only long ('J') and byte-string ('B') entries are kept. The file comes from an
/// untrusted process: every offset and length is checked against the buffer, and a malformed file is refused whole.
/// </summary>
public sealed class HsPerfData
{
    private const uint Magic = 0xcafec0c0;
    private const int PrologueSize = 32;
    private const int EntryHeaderSize = 20;
    private const int MaxEntries = 100_000;

    private readonly Dictionary<string, long> _longs;
    private readonly Dictionary<string, string> _strings;

    private HsPerfData(Dictionary<string, long> longs, Dictionary<string, string> strings)
    {
        _longs = longs;
        _strings = strings;
    }

    public int Count => _longs.Count + _strings.Count;

    public long? Long(string name) => _longs.TryGetValue(name, out long v) ? v : null;

    public string? String(string name) => _strings.TryGetValue(name, out string? v) ? v : null;

    /// <summary>Parses <paramref name="data"/>; false with a one-line reason when it is not a well-formed hsperfdata file.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out HsPerfData? value, out string? problem)
    {
        value = null;
        if (data.Length < PrologueSize || BinaryPrimitives.ReadUInt32BigEndian(data) != Magic)
        {
            problem = "not an hsperfdata file (no 0xcafec0c0 magic)";
            return false;
        }

        bool little = data[4] == 1;
        int entryOffset = Int32(data[24..], little);
        int entries = Int32(data[28..], little);
        if (data[5] != 2 || entryOffset < PrologueSize || entryOffset > data.Length || entries < 0 || entries > MaxEntries)
        {
            problem = $"unsupported hsperfdata (version {data[5]}.{data[6]}, {entries} entries at {entryOffset})";
            return false;
        }

        var longs = new Dictionary<string, long>(StringComparer.Ordinal);
        var strings = new Dictionary<string, string>(StringComparer.Ordinal);
        int at = entryOffset;
        for (int i = 0; i < entries; i++)
        {
            if (at > data.Length - EntryHeaderSize)
            {
                problem = $"hsperfdata entry {i} runs past the end of the file";
                return false;
            }

            ReadOnlySpan<byte> e = data[at..];
            int length = Int32(e, little);
            int nameOffset = Int32(e[4..], little);
            int vectorLength = Int32(e[8..], little);
            byte type = e[12];
            int dataOffset = Int32(e[16..], little);
            if (length < EntryHeaderSize || length > data.Length - at || nameOffset < EntryHeaderSize || nameOffset >= length
                || dataOffset < nameOffset || dataOffset > length || vectorLength < 0)
            {
                problem = $"hsperfdata entry {i} is malformed";
                return false;
            }

            ReadOnlySpan<byte> entry = e[..length];
            ReadOnlySpan<byte> nameBytes = entry[nameOffset..dataOffset];
            int nul = nameBytes.IndexOf((byte)0);
            string name = Encoding.ASCII.GetString(nul >= 0 ? nameBytes[..nul] : nameBytes);
            ReadOnlySpan<byte> payload = entry[dataOffset..];
            if (type == (byte)'J' && vectorLength == 0 && payload.Length >= 8)
            {
                longs[name] = little ? BinaryPrimitives.ReadInt64LittleEndian(payload) : BinaryPrimitives.ReadInt64BigEndian(payload);
            }
            else if (type == (byte)'B' && vectorLength > 0)
            {
                ReadOnlySpan<byte> bytes = payload[..Math.Min(vectorLength, payload.Length)];
                int end = bytes.IndexOf((byte)0);
                strings[name] = Encoding.UTF8.GetString(end >= 0 ? bytes[..end] : bytes);
            }

            at += length;
        }

        value = new HsPerfData(longs, strings);
        problem = null;
        return true;
    }

    private static int Int32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadInt32LittleEndian(b) : BinaryPrimitives.ReadInt32BigEndian(b);
}
