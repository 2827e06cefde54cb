namespace MemWatch.Probes.Symbols;

/// <summary>
/// Reads the dynamic symbol table through PT_DYNAMIC (DT_SYMTAB, DT_STRTAB, DT_STRSZ, DT_HASH/DT_GNU_HASH,
/// DT_VERSYM) for files whose section headers were stripped: the loader needs only these, so they are always there.
/// </summary>
internal static class DynamicSegmentSymbols
{
    private const long DtNull = 0;
    private const long DtHash = 4;
    private const long DtStrtab = 5;
    private const long DtSymtab = 6;
    private const long DtStrsz = 10;
    private const long DtGnuHash = 0x6ffffef5;
    private const long DtVersym = 0x6ffffff0;
    private const int MaxDynamicEntries = 4096;
    private const uint MaxSymbols = 1 << 22;

    public static List<ElfSymbol> Read(ElfImage image, List<ElfProgramHeader> programHeaders)
    {
        ElfProgramHeader dynamic = programHeaders.Find(p => p.Type == ElfProgramHeader.PtDynamic);
        if (dynamic.Type != ElfProgramHeader.PtDynamic || dynamic.FileSize == 0)
        {
            return [];
        }

        ulong entries = Math.Min(dynamic.FileSize / 16, MaxDynamicEntries);
        byte[] dyn = image.Read(dynamic.FileOffset, entries * 16, "PT_DYNAMIC");
        ulong symtab = 0, strtab = 0, strsz = 0, hash = 0, gnuHash = 0, versym = 0;
        for (int i = 0; i < (int)entries; i++)
        {
            long tag = (long)ElfFile.U64(dyn, i * 16);
            ulong value = ElfFile.U64(dyn, (i * 16) + 8);
            switch (tag)
            {
                case DtNull: i = (int)entries; break;
                case DtSymtab: symtab = value; break;
                case DtStrtab: strtab = value; break;
                case DtStrsz: strsz = value; break;
                case DtHash: hash = value; break;
                case DtGnuHash: gnuHash = value; break;
                case DtVersym: versym = value; break;
                default: break;
            }
        }

        if (symtab == 0 || strtab == 0 || strsz == 0)
        {
            return [];
        }

        uint count = hash != 0
            ? ElfFile.U32(image.Read(ToOffset(image, programHeaders, hash + 4), 4, "DT_HASH nchain"), 0)
            : gnuHash != 0 ? CountFromGnuHash(image, programHeaders, gnuHash) : 0;
        if (count == 0)
        {
            return [];
        }

        if (count > MaxSymbols)
        {
            throw new ProcParseException(image.Source, 0, $"PT_DYNAMIC claims {count} dynamic symbols");
        }

        byte[] strings = image.Read(ToOffset(image, programHeaders, strtab), strsz, "DT_STRTAB");
        byte[] symbols = image.Read(ToOffset(image, programHeaders, symtab), (ulong)count * 24, "DT_SYMTAB");
        byte[]? versions = versym != 0 ? image.Read(ToOffset(image, programHeaders, versym), (ulong)count * 2, "DT_VERSYM") : null;
        return ElfFile.ParseSymbols(symbols, strings, versions, image.Source, "DT_SYMTAB");
    }

    // DT_GNU_HASH has no symbol count: it is one past the last chain entry reached from the highest bucket.
    private static uint CountFromGnuHash(ElfImage image, List<ElfProgramHeader> programHeaders, ulong address)
    {
        ulong offset = ToOffset(image, programHeaders, address);
        byte[] header = image.Read(offset, 16, "DT_GNU_HASH header");
        uint nbuckets = ElfFile.U32(header, 0);
        uint symoffset = ElfFile.U32(header, 4);
        uint bloomSize = ElfFile.U32(header, 8);
        if (nbuckets == 0 || nbuckets > MaxSymbols || bloomSize > MaxSymbols)
        {
            return 0;
        }

        ulong bucketsAt = offset + 16 + ((ulong)bloomSize * 8);
        byte[] buckets = image.Read(bucketsAt, (ulong)nbuckets * 4, "DT_GNU_HASH buckets");
        uint last = 0;
        for (int i = 0; i < (int)nbuckets; i++)
        {
            last = Math.Max(last, ElfFile.U32(buckets, i * 4));
        }

        if (last < symoffset)
        {
            return symoffset;
        }

        ulong chainAt = bucketsAt + ((ulong)nbuckets * 4);
        for (uint index = last; index < MaxSymbols; index++)
        {
            uint chain = ElfFile.U32(image.Read(chainAt + ((ulong)(index - symoffset) * 4), 4, "DT_GNU_HASH chain"), 0);
            if ((chain & 1) != 0)
            {
                return index + 1;
            }
        }

        throw new ProcParseException(image.Source, 0, "DT_GNU_HASH chain does not terminate");
    }

    private static ulong ToOffset(ElfImage image, List<ElfProgramHeader> programHeaders, ulong address)
    {
        foreach (ElfProgramHeader p in programHeaders)
        {
            if (p.Type == ElfProgramHeader.PtLoad && address >= p.VirtualAddress && address - p.VirtualAddress < p.FileSize)
            {
                return p.FileOffset + (address - p.VirtualAddress);
            }
        }

        throw new ProcParseException(image.Source, 0, $"dynamic address 0x{address:x} is in no PT_LOAD segment");
    }
}
