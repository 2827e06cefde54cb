using System.Buffers.Binary;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// A bounds-checked little-endian cursor over DWARF/CFI bytes (DWARF 5 §7.6 LEB128, LSB 1.3 "DWARF Extensions" for
/// the <c>DW_EH_PE_*</c> pointer encodings). Reading past the end sets <see cref="Failed"/> and yields zeros, so hostile
/// bytes can never read out of bounds and parsers check one flag instead of every read.
/// </summary>
internal ref struct DwarfReader
{
    private readonly ReadOnlySpan<byte> _data;

    /// <param name="data">The whole section.</param>
    /// <param name="sectionAddress">The section's address in the file's link-time layout (for pc-relative pointers).</param>
    /// <param name="position">Where to start.</param>
    public DwarfReader(ReadOnlySpan<byte> data, ulong sectionAddress, int position = 0)
    {
        _data = data;
        SectionAddress = sectionAddress;
        Position = position;
    }

    public int Position { get; set; }

    public readonly ulong SectionAddress { get; }

    public bool Failed { get; private set; }

    public readonly int Length => _data.Length;

    public readonly bool AtEnd(int limit) => Position >= limit || Failed;

    public byte U8()
    {
        if ((uint)Position >= (uint)_data.Length)
        {
            Failed = true;
            return 0;
        }

        return _data[Position++];
    }

    public ushort U16() => Take(2) is { IsEmpty: false } s ? BinaryPrimitives.ReadUInt16LittleEndian(s) : (ushort)0;

    public uint U32() => Take(4) is { IsEmpty: false } s ? BinaryPrimitives.ReadUInt32LittleEndian(s) : 0u;

    public ulong U64() => Take(8) is { IsEmpty: false } s ? BinaryPrimitives.ReadUInt64LittleEndian(s) : 0UL;

    public ulong Uleb()
    {
        ulong result = 0;
        int shift = 0;
        while (true)
        {
            byte b = U8();
            if (shift < 64)
            {
                result |= (ulong)(b & 0x7f) << shift;
            }

            shift += 7;
            if ((b & 0x80) == 0 || Failed)
            {
                return result;
            }
        }
    }

    public long Sleb()
    {
        long result = 0;
        int shift = 0;
        byte b;
        do
        {
            b = U8();
            if (shift < 64)
            {
                result |= (long)(b & 0x7f) << shift;
            }

            shift += 7;
        }
        while ((b & 0x80) != 0 && !Failed);

        if (shift < 64 && (b & 0x40) != 0)
        {
            result |= -1L << shift;
        }

        return result;
    }

    /// <summary>Skips <paramref name="count"/> bytes; fails when they are not all there.</summary>
    public void Skip(ulong count)
    {
        if (count > (ulong)(_data.Length - Position))
        {
            Failed = true;
            Position = _data.Length;
            return;
        }

        Position += (int)count;
    }

    /// <summary>
    /// Reads a pointer in encoding <paramref name="encoding"/> (<c>DW_EH_PE_*</c>). <paramref name="dataBase"/> is
    /// the base of <c>DW_EH_PE_datarel</c> (the <c>.eh_frame_hdr</c> address there; unused in <c>.eh_frame</c> on
    /// x86_64). <c>DW_EH_PE_indirect</c> is reported through <paramref name="indirect"/>: the value is then the
    /// address of the pointer, which only a memory read can resolve; the unwinder never needs one (only the
    /// personality routine uses it).
    /// </summary>
    public ulong EncodedPointer(byte encoding, ulong dataBase, ulong functionBase, out bool indirect)
    {
        indirect = (encoding & EhPointer.Indirect) != 0;
        if (encoding == EhPointer.Omit)
        {
            return 0;
        }

        ulong here = SectionAddress + (ulong)Position;
        if ((encoding & 0x70) == EhPointer.Aligned)
        {
            int aligned = (Position + 7) & ~7;
            Skip((ulong)(aligned - Position));
            return U64();
        }

        ulong value = (encoding & 0x0f) switch
        {
            EhPointer.Absptr => U64(),
            EhPointer.Uleb128 => Uleb(),
            EhPointer.Udata2 => U16(),
            EhPointer.Udata4 => U32(),
            EhPointer.Udata8 => U64(),
            EhPointer.Sleb128 => (ulong)Sleb(),
            EhPointer.Sdata2 => (ulong)(long)(short)U16(),
            EhPointer.Sdata4 => (ulong)(long)(int)U32(),
            EhPointer.Sdata8 => U64(),
            _ => Fail(),
        };

        return (encoding & 0x70) switch
        {
            EhPointer.Absptr => value,
            EhPointer.PcRel => here + value,
            EhPointer.DataRel => dataBase + value,
            EhPointer.FuncRel => functionBase + value,
            _ => Fail(), // textrel has no meaning on x86_64
        };
    }

    /// <summary>A sub-span of <paramref name="length"/> bytes at the cursor, advancing past it; empty and failed when short.</summary>
    public ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || length > _data.Length - Position)
        {
            Failed = true;
            Position = _data.Length;
            return default;
        }

        ReadOnlySpan<byte> s = _data.Slice(Position, length);
        Position += length;
        return s;
    }

    private ulong Fail()
    {
        Failed = true;
        return 0;
    }
}
