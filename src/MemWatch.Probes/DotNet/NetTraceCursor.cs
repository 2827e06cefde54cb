using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// Reads little-endian fields from a bounded span of a nettrace stream. Every read checks what is left, so a size or
/// count the target wrote can only make the read fail with <see cref="InvalidDataException"/>, never run past the span.
/// </summary>
internal ref struct NetTraceCursor
{
    private readonly ReadOnlySpan<byte> _data;

    public NetTraceCursor(ReadOnlySpan<byte> data)
    {
        _data = data;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly int Remaining => _data.Length - Position;

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new InvalidDataException($"nettrace: {count} bytes wanted at offset {Position}, {Remaining} left");
        }

        ReadOnlySpan<byte> s = _data.Slice(Position, count);
        Position += count;
        return s;
    }

    public void Skip(int count) => Take(count);

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>A count or size that must be in [0, <paramref name="max"/>].</summary>
    public int ReadCount(int max, string what)
    {
        int n = ReadInt32();
        return n >= 0 && n <= max ? n : throw new InvalidDataException($"nettrace: {what} {n} outside 0..{max}");
    }

    /// <summary>LEB128 as the header compression writes it: at most 5 bytes for 32 bits.</summary>
    public uint ReadVarUInt32() => (uint)ReadVar(5);

    /// <summary>LEB128: at most 10 bytes for 64 bits.</summary>
    public ulong ReadVarUInt64() => ReadVar(10);

    /// <summary>A NUL-terminated UTF-16 string of at most <paramref name="maxChars"/> characters.</summary>
    public string ReadUtf16z(int maxChars)
    {
        ReadOnlySpan<byte> rest = _data[Position..];
        int limit = Math.Min(rest.Length / 2, maxChars + 1);
        ReadOnlySpan<char> chars = MemoryMarshal.Cast<byte, char>(rest[..(limit * 2)]);
        int end = chars.IndexOf('\0');
        if (end < 0)
        {
            throw new InvalidDataException($"nettrace: string at offset {Position} unterminated within {maxChars} characters");
        }

        Position += (end + 1) * 2;
        return end == 0 ? string.Empty : new string(chars[..end]);
    }

    private ulong ReadVar(int maxBytes)
    {
        ulong value = 0;
        for (int i = 0; i < maxBytes; i++)
        {
            byte b = ReadByte();
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException($"nettrace: variable-length integer longer than {maxBytes} bytes at offset {Position}");
    }
}
