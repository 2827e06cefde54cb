using System.Diagnostics.CodeAnalysis;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// The bytes of one <c>.eh_frame</c> (or <c>.debug_frame</c>) section and its CIE/FDE parser. CIEs are parsed once
/// and kept; FDEs are parsed on each lookup (a few reads) so that a cold module costs nothing until it is used.
/// </summary>
internal sealed class CfiSection
{
    private readonly Dictionary<int, CommonInformationEntry?> _cies = [];
    private readonly Lock _lock = new();

    public CfiSection(byte[] data, ulong address, bool isDebugFrame)
    {
        Data = data;
        Address = address;
        IsDebugFrame = isDebugFrame;
    }

    public byte[] Data { get; }

    /// <summary>The section's address in the file's link-time layout.</summary>
    public ulong Address { get; }

    /// <summary>.debug_frame: CIE id 0xffffffff and CIE pointers that are section offsets (DWARF 5 §7.3.3), not .eh_frame's relative ones.</summary>
    public bool IsDebugFrame { get; }

    /// <summary>Parses the FDE at <paramref name="offset"/>; false when it is a CIE, a terminator or malformed.</summary>
    public bool TryParseFde(int offset, out FrameDescriptionEntry fde)
    {
        fde = default;
        var r = new DwarfReader(Data, Address, offset);
        if (!TryReadHeader(ref r, out int end, out ulong ciePointer, out int idPosition) || IsCieId(ciePointer))
        {
            return false;
        }

        long cieOffset = IsDebugFrame ? (long)ciePointer : idPosition - (long)ciePointer;
        if (cieOffset < 0 || cieOffset >= Data.Length || !TryGetCie((int)cieOffset, out CommonInformationEntry? cie))
        {
            return false;
        }

        ulong begin = r.EncodedPointer(cie.FdeEncoding, 0, 0, out _);
        ulong range = r.EncodedPointer((byte)(cie.FdeEncoding & 0x0f), 0, 0, out _);
        if (cie.HasAugmentationData)
        {
            r.Skip(r.Uleb());
        }

        if (r.Failed || r.Position > end || begin + range < begin)
        {
            return false;
        }

        fde = new FrameDescriptionEntry(offset, begin, begin + range, r.Position, end, cie);
        return true;
    }

    /// <summary>Calls <paramref name="visit"/> for every FDE in the section, in order (for sections without a search table).</summary>
    public void ForEachFde(Action<FrameDescriptionEntry> visit)
    {
        int offset = 0;
        while (offset < Data.Length)
        {
            var r = new DwarfReader(Data, Address, offset);
            if (!TryReadHeader(ref r, out int end, out _, out _))
            {
                return; // a zero terminator or a damaged length: nothing reliable follows
            }

            if (TryParseFde(offset, out FrameDescriptionEntry fde))
            {
                visit(fde);
            }

            offset = end;
        }
    }

    public bool TryGetCie(int offset, [NotNullWhen(true)] out CommonInformationEntry? cie)
    {
        lock (_lock)
        {
            if (!_cies.TryGetValue(offset, out cie))
            {
                cie = ParseCie(offset);
                _cies[offset] = cie;
            }
        }

        return cie is not null;
    }

    private CommonInformationEntry? ParseCie(int offset)
    {
        var r = new DwarfReader(Data, Address, offset);
        if (!TryReadHeader(ref r, out int end, out ulong id, out _) || !IsCieId(id))
        {
            return null;
        }

        byte version = r.U8();
        if (version is not (1 or 3 or 4))
        {
            return null;
        }

        int augStart = r.Position;
        while (r.U8() != 0 && !r.Failed)
        {
        }

        ReadOnlySpan<byte> augmentation = Data.AsSpan(augStart, Math.Max(0, r.Position - augStart - 1));
        if (version == 4)
        {
            byte addressSize = r.U8();
            r.U8(); // segment selector size
            if (addressSize != 8)
            {
                return null;
            }
        }

        ulong codeAlign = r.Uleb();
        long dataAlign = r.Sleb();
        int raRegister = version == 1 ? r.U8() : (int)Math.Min(r.Uleb(), int.MaxValue);
        byte fdeEncoding = EhPointer.Absptr;
        bool signal = false;
        bool z = augmentation.Length > 0 && augmentation[0] == (byte)'z';
        if (z)
        {
            ulong length = r.Uleb();
            int dataEnd = r.Position + (int)Math.Min(length, int.MaxValue);
            for (int i = 1; i < augmentation.Length && !r.Failed; i++)
            {
                switch ((char)augmentation[i])
                {
                    case 'R':
                        fdeEncoding = r.U8();
                        break;
                    case 'L':
                        r.U8();
                        break;
                    case 'P':
                        r.EncodedPointer(r.U8(), 0, 0, out _);
                        break;
                    case 'S':
                        signal = true;
                        break;
                    default:
                        // 'B' (AArch64 keys), 'G' (MTE): no data; the length above lets us skip the rest anyway.
                        break;
                }
            }

            r.Position = Math.Max(r.Position, dataEnd);
        }
        else if (augmentation.Length > 0 && !augmentation.SequenceEqual("eh"u8))
        {
            return null; // an augmentation without 'z' whose data we cannot size
        }

        if (r.Failed || r.Position > end)
        {
            return null;
        }

        return new CommonInformationEntry
        {
            Offset = offset,
            Version = version,
            CodeAlignment = codeAlign,
            DataAlignment = dataAlign,
            ReturnAddressRegister = raRegister,
            FdeEncoding = fdeEncoding,
            HasAugmentationData = z,
            IsSignalFrame = signal,
            InstructionsStart = r.Position,
            InstructionsEnd = end,
        };
    }

    /// <summary>Length (32- or 64-bit DWARF) and the CIE id/pointer; <paramref name="end"/> is the entry's end offset.</summary>
    private bool TryReadHeader(ref DwarfReader r, out int end, out ulong id, out int idPosition)
    {
        end = 0;
        id = 0;
        idPosition = 0;
        ulong length = r.U32();
        bool is64 = length == 0xffffffff;
        if (is64)
        {
            length = r.U64();
        }

        if (r.Failed || length == 0 || length > (ulong)(Data.Length - r.Position))
        {
            return false;
        }

        end = r.Position + (int)length;
        idPosition = r.Position;
        id = is64 ? r.U64() : r.U32();
        if (is64 && IsDebugFrame && id == ulong.MaxValue)
        {
            id = 0xffffffff;
        }

        return !r.Failed && r.Position <= end;
    }

    private bool IsCieId(ulong id) => IsDebugFrame ? id == 0xffffffff : id == 0;
}
