using System.Buffers.Binary;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// The call-frame information of one ELF file: its <c>.eh_frame</c> with the <c>.eh_frame_hdr</c> binary-search table
/// (LSB 1.3 §10.6), or a table built by walking <c>.eh_frame</c> when the header is missing, plus <c>.debug_frame</c>
/// of the separate debug file when one is given, for code <c>.eh_frame</c> does not cover. Addresses are the file's
/// link-time addresses; the caller subtracts the load bias.
/// </summary>
internal sealed class CfiTable
{
    private const uint PtGnuEhFrame = 0x6474e550;
    private const byte DataRelSdata4 = EhPointer.DataRel | EhPointer.Sdata4;

    private readonly byte[]? _hdr;
    private readonly ulong _hdrAddress;
    private readonly int _tableStart;
    private readonly int _tableCount;
    private readonly ulong[]? _starts;
    private readonly int[]? _offsets;
    private readonly CfiSection? _debugFrame;
    private readonly ulong[] _debugStarts = [];
    private readonly int[] _debugOffsets = [];

    private CfiTable(FileIdentity identity, CfiSection? ehFrame, byte[]? hdr, ulong hdrAddress, int tableStart, int tableCount, ulong[]? starts, int[]? offsets, CfiSection? debugFrame)
    {
        Identity = identity;
        EhFrame = ehFrame;
        _hdr = hdr;
        _hdrAddress = hdrAddress;
        _tableStart = tableStart;
        _tableCount = tableCount;
        _starts = starts;
        _offsets = offsets;
        _debugFrame = debugFrame;
        if (debugFrame is not null)
        {
            (_debugStarts, _debugOffsets) = BuildTable(debugFrame);
        }
    }

    public FileIdentity Identity { get; }

    public CfiSection? EhFrame { get; }

    /// <summary>Number of FDEs in the search table (for tests and the benchmark).</summary>
    public int FdeCount => _hdr is not null ? _tableCount : _starts?.Length ?? 0;

    /// <summary>
    /// Parses the CFI of <paramref name="image"/> (already identified as <paramref name="identity"/>).
    /// <paramref name="debugImage"/> is the separate debug file, whose <c>.debug_frame</c> is used only where
    /// <c>.eh_frame</c> has no FDE. Throws <see cref="ProcParseException"/> on a malformed file.
    /// </summary>
    public static CfiTable Load(ElfImage image, ElfFile elf, FileIdentity identity, ElfImage? debugImage = null, ElfFile? debugElf = null)
    {
        CfiSection? ehFrame = null;
        byte[]? hdr = null;
        ulong hdrAddress = 0;
        ElfSection eh = FindSection(elf, ".eh_frame");
        ElfSection ehHdr = FindSection(elf, ".eh_frame_hdr");
        if (ehHdr.Size > 0)
        {
            hdr = image.Read(ehHdr.FileOffset, ehHdr.Size, ".eh_frame_hdr");
            hdrAddress = ehHdr.Address;
        }
        else if (elf.ProgramHeaders.FirstOrDefault(p => p.Type == PtGnuEhFrame) is { FileSize: > 0 } ph)
        {
            hdr = image.Read(ph.FileOffset, ph.FileSize, "PT_GNU_EH_FRAME");
            hdrAddress = ph.VirtualAddress;
        }

        if (eh.Size > 0)
        {
            ehFrame = new CfiSection(image.Read(eh.FileOffset, eh.Size, ".eh_frame"), eh.Address, isDebugFrame: false);
        }
        else if (hdr is not null && TryEhFrameFromHeader(image, elf, hdr, hdrAddress) is { } fromHeader)
        {
            ehFrame = fromHeader;
        }

        int tableStart = 0;
        int tableCount = 0;
        ulong[]? starts = null;
        int[]? offsets = null;
        if (ehFrame is not null && hdr is not null && hdr.Length >= 4 && hdr[0] == 1 && hdr[3] == DataRelSdata4)
        {
            var r = new DwarfReader(hdr, hdrAddress, 4);
            ulong ehFramePointer = r.EncodedPointer(hdr[1], hdrAddress, 0, out _);
            ulong count = r.EncodedPointer(hdr[2], hdrAddress, 0, out _);
            if (!r.Failed && ehFramePointer == ehFrame.Address && count <= (ulong)((hdr.Length - r.Position) / 8))
            {
                tableStart = r.Position;
                tableCount = (int)count;
            }
            else
            {
                hdr = null;
            }
        }
        else
        {
            hdr = null;
        }

        if (hdr is null && ehFrame is not null)
        {
            (starts, offsets) = BuildTable(ehFrame);
        }

        CfiSection? debugFrame = null;
        if (debugImage is not null && debugElf is not null && FindSection(debugElf, ".debug_frame") is { Size: > 0 } df && (df.Flags & 0x800) == 0)
        {
            // SHF_COMPRESSED sections are skipped: .eh_frame covers all of Debian's libraries, this is a fallback.
            debugFrame = new CfiSection(debugImage.Read(df.FileOffset, df.Size, ".debug_frame"), 0, isDebugFrame: true);
        }

        return new CfiTable(identity, ehFrame, hdr, hdrAddress, tableStart, tableCount, starts, offsets, debugFrame);
    }

    /// <summary>A table over one bare <c>.eh_frame</c> section, searched by walking it (for tests of damaged input).</summary>
    internal static CfiTable FromSection(CfiSection ehFrame)
    {
        (ulong[] starts, int[] offsets) = BuildTable(ehFrame);
        return new CfiTable(default, ehFrame, null, 0, 0, 0, starts, offsets, null);
    }

    /// <summary>The FDE covering link-time address <paramref name="address"/>, and the section it lives in.</summary>
    public bool TryFindFde(ulong address, out FrameDescriptionEntry fde, out CfiSection section)
    {
        fde = default;
        section = EhFrame!;
        if (EhFrame is not null && TryFindInEhFrame(address, out int offset)
            && EhFrame.TryParseFde(offset, out fde) && address >= fde.PcBegin && address < fde.PcEnd)
        {
            return true;
        }

        if (_debugFrame is not null && Search(_debugStarts, address) is int i and >= 0
            && _debugFrame.TryParseFde(_debugOffsets[i], out fde) && address >= fde.PcBegin && address < fde.PcEnd)
        {
            section = _debugFrame;
            return true;
        }

        return false;
    }

    private bool TryFindInEhFrame(ulong address, out int offset)
    {
        offset = 0;
        if (_hdr is not null)
        {
            // Entries are (initial_location, fde_address), both datarel sdata4, sorted by initial_location.
            ReadOnlySpan<byte> table = _hdr.AsSpan(_tableStart, _tableCount * 8);
            int lo = 0;
            int hi = _tableCount - 1;
            int found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                ulong start = _hdrAddress + (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(table[(mid * 8)..]);
                if (start <= address)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            if (found < 0)
            {
                return false;
            }

            ulong fdeAddress = _hdrAddress + (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(table[((found * 8) + 4)..]);
            ulong rel = fdeAddress - EhFrame!.Address;
            if (rel >= (ulong)EhFrame.Data.Length)
            {
                return false;
            }

            offset = (int)rel;
            return true;
        }

        if (_starts is not null && Search(_starts, address) is int i and >= 0)
        {
            offset = _offsets![i];
            return true;
        }

        return false;
    }

    private static int Search(ulong[] starts, ulong address)
    {
        int i = Array.BinarySearch(starts, address);
        return i >= 0 ? i : ~i - 1;
    }

    private static (ulong[] Starts, int[] Offsets) BuildTable(CfiSection section)
    {
        var entries = new List<(ulong Start, int Offset)>();
        section.ForEachFde(f => entries.Add((f.PcBegin, f.Offset)));
        entries.Sort((a, b) => a.Start.CompareTo(b.Start));
        return ([.. entries.Select(e => e.Start)], [.. entries.Select(e => e.Offset)]);
    }

    private static CfiSection? TryEhFrameFromHeader(ElfImage image, ElfFile elf, byte[] hdr, ulong hdrAddress)
    {
        if (hdr.Length < 4 || hdr[0] != 1)
        {
            return null;
        }

        var r = new DwarfReader(hdr, hdrAddress, 4);
        ulong address = r.EncodedPointer(hdr[1], hdrAddress, 0, out _);
        foreach (ElfProgramHeader p in elf.ProgramHeaders)
        {
            if (p.Type == ElfProgramHeader.PtLoad && address >= p.VirtualAddress && address < p.VirtualAddress + p.FileSize)
            {
                // Without section headers .eh_frame's size is unknown: take the rest of its segment; the zero terminator ends it.
                ulong skip = address - p.VirtualAddress;
                return new CfiSection(image.Read(p.FileOffset + skip, p.FileSize - skip, ".eh_frame (from PT_GNU_EH_FRAME)"), address, isDebugFrame: false);
            }
        }

        return null;
    }

    private static ElfSection FindSection(ElfFile elf, string name)
    {
        foreach (ElfSection s in elf.Sections)
        {
            if (s.Name == name && s.Type != ElfSection.ShtNobits)
            {
                return s;
            }
        }

        return default;
    }
}
