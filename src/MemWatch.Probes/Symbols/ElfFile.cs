using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.Symbols;

/// <summary>
/// An ELF64 little-endian object (executable, shared library or separate debug file) read for symbol
/// resolution: header, program headers, section headers, <c>.dynsym</c>/<c>.dynstr</c> (with
/// <c>.gnu.version</c>), <c>.symtab</c>/<c>.strtab</c> and the <c>NT_GNU_BUILD_ID</c> note. See elf(5).
/// </summary>
/// <remarks>
/// Every offset, size and count taken from the file is checked against the file's length before use, so a
/// truncated or hostile file yields <see cref="ProcParseException"/>, never an out-of-bounds read. A file that is
/// not ELF64 little-endian at all is reported by <see cref="TryOpen"/>/<c>TryParse</c> returning false.
/// Only the symbol tables and headers are kept in memory, not the whole file.
/// </remarks>
public sealed class ElfFile
{
    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const int SectionHeaderSize = 64;
    private const int SymbolSize = 24;
    private const uint NtGnuBuildId = 3;
    private const ushort VersymHidden = 0x8000;

    private readonly Dictionary<string, ElfSymbol> _dynamicByName;
    private readonly Dictionary<string, ElfSymbol> _staticByName;

    private ElfFile(
        string source,
        ushort type,
        ushort machine,
        IReadOnlyList<ElfProgramHeader> programHeaders,
        IReadOnlyList<ElfSection> sections,
        IReadOnlyList<ElfSymbol> dynamicSymbols,
        IReadOnlyList<ElfSymbol> symbols,
        string? buildId)
    {
        Source = source;
        Type = type;
        Machine = machine;
        ProgramHeaders = programHeaders;
        Sections = sections;
        DynamicSymbols = dynamicSymbols;
        Symbols = symbols;
        BuildId = buildId;
        _dynamicByName = IndexByName(dynamicSymbols);
        _staticByName = IndexByName(symbols);
        FirstLoadVirtualAddress = 0;
        foreach (ElfProgramHeader ph in programHeaders)
        {
            if (ph.Type == ElfProgramHeader.PtLoad)
            {
                FirstLoadVirtualAddress = ph.VirtualAddress;
                HasLoadSegment = true;
                break;
            }
        }
    }

    /// <summary>The path (or name) the file was read from.</summary>
    public string Source { get; }

    /// <summary>e_type: 2 ET_EXEC, 3 ET_DYN.</summary>
    public ushort Type { get; }

    /// <summary>e_machine: 62 EM_X86_64, 183 EM_AARCH64.</summary>
    public ushort Machine { get; }

    public IReadOnlyList<ElfProgramHeader> ProgramHeaders { get; }

    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>Defined symbols of <c>.dynsym</c> (what the dynamic linker can see).</summary>
    public IReadOnlyList<ElfSymbol> DynamicSymbols { get; }

    /// <summary>Defined symbols of <c>.symtab</c> (absent in stripped files; complete in debug files).</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }

    /// <summary>The <c>NT_GNU_BUILD_ID</c> note as lower-case hex, or null when the file has none.</summary>
    public string? BuildId { get; }

    /// <summary>p_vaddr of the first PT_LOAD: a symbol's address in a process is <c>base + st_value - this</c>.</summary>
    public ulong FirstLoadVirtualAddress { get; }

    public bool HasLoadSegment { get; }

    /// <summary>
    /// Opens and parses the file at <paramref name="path"/>. Returns false with <paramref name="notElfReason"/> when
    /// it is not an ELF64 little-endian file; throws <see cref="ProcParseException"/> when it claims to be one but is
    /// malformed, and the usual IO exceptions when it cannot be read.
    /// </summary>
    public static bool TryOpen(string path, [NotNullWhen(true)] out ElfFile? file, [NotNullWhen(false)] out string? notElfReason)
    {
        using ElfImage image = ElfImage.OpenFile(path);
        return TryParseImage(image, out file, out notElfReason);
    }

    /// <summary>Parses the file open at <paramref name="handle"/> (checked by its opener), then closes it; same contract as <see cref="TryOpen"/>.</summary>
    public static bool TryParseOpenFile(SafeFileHandle handle, string source, [NotNullWhen(true)] out ElfFile? file, [NotNullWhen(false)] out string? notElfReason)
    {
        using ElfImage image = ElfImage.FromHandle(handle, source);
        return TryParseImage(image, out file, out notElfReason);
    }

    /// <summary>Parses an in-memory ELF image; same contract as <see cref="TryOpen"/>.</summary>
    public static bool TryParse(byte[] image, string source, [NotNullWhen(true)] out ElfFile? file, [NotNullWhen(false)] out string? notElfReason)
    {
        using ElfImage img = ElfImage.FromBytes(image, source);
        return TryParseImage(img, out file, out notElfReason);
    }

    /// <summary>Parses an already open image; same contract as <see cref="TryOpen"/>.</summary>
    internal static bool TryParse(ElfImage image, [NotNullWhen(true)] out ElfFile? file, [NotNullWhen(false)] out string? notElfReason)
        => TryParseImage(image, out file, out notElfReason);

    /// <summary>
    /// Looks a symbol up by name, first in <c>.dynsym</c>, then in <c>.symtab</c>. When a name has several versions
    /// the default (<c>@@</c>) one wins.
    /// </summary>
    public bool TryFindSymbol(string name, out ElfSymbol symbol)
        => _dynamicByName.TryGetValue(name, out symbol) || _staticByName.TryGetValue(name, out symbol);

    /// <summary>Looks a symbol up in <c>.dynsym</c> only (what the dynamic linker exports).</summary>
    public bool TryFindDynamicSymbol(string name, out ElfSymbol symbol) => _dynamicByName.TryGetValue(name, out symbol);

    private static bool TryParseImage(ElfImage image, [NotNullWhen(true)] out ElfFile? file, [NotNullWhen(false)] out string? notElfReason)
    {
        file = null;
        if (image.Length < 16)
        {
            notElfReason = $"{image.Source}: too short to be an ELF file ({image.Length} bytes)";
            return false;
        }

        byte[] ident = image.Read(0, 16, "e_ident");
        if (ident[0] != 0x7f || ident[1] != (byte)'E' || ident[2] != (byte)'L' || ident[3] != (byte)'F')
        {
            notElfReason = $"{image.Source}: not an ELF file (no \\x7fELF magic)";
            return false;
        }

        if (ident[4] != 2)
        {
            notElfReason = $"{image.Source}: ELF class {ident[4]} is not ELF64";
            return false;
        }

        if (ident[5] != 1)
        {
            notElfReason = $"{image.Source}: ELF data encoding {ident[5]} is not little-endian";
            return false;
        }

        notElfReason = null;
        ReadOnlySpan<byte> h = image.Read(0, HeaderSize, "ELF header");
        ushort type = U16(h, 16);
        ushort machine = U16(h, 18);
        ulong phoff = U64(h, 32);
        ulong shoff = U64(h, 40);
        ushort phentsize = U16(h, 54);
        uint phnum = U16(h, 56);
        ushort shentsize = U16(h, 58);
        uint shnum = U16(h, 60);
        uint shstrndx = U16(h, 62);

        // Extended numbering (elf(5)): the real counts live in section header 0.
        byte[]? sh0 = null;
        if (shoff != 0 && (shnum == 0 || shstrndx == 0xffff || phnum == 0xffff))
        {
            sh0 = image.Read(shoff, SectionHeaderSize, "section header 0");
            if (shnum == 0)
            {
                shnum = (uint)Math.Min(U64(sh0, 32), uint.MaxValue);
            }

            if (shstrndx == 0xffff)
            {
                shstrndx = U32(sh0, 40);
            }

            if (phnum == 0xffff)
            {
                phnum = U32(sh0, 44);
            }
        }

        List<ElfProgramHeader> programHeaders = ReadProgramHeaders(image, phoff, phentsize, phnum);
        List<ElfSection> sections = ReadSections(image, shoff, shentsize, shnum, shstrndx);

        List<ElfSymbol> dynamicSymbols = [];
        List<ElfSymbol> symbols = [];
        int dynsymIndex = sections.FindIndex(s => s.Type == ElfSection.ShtDynsym);
        if (dynsymIndex >= 0)
        {
            ElfSection versym = sections.Find(s => s.Type == ElfSection.ShtGnuVersym && s.Link == (uint)dynsymIndex);
            dynamicSymbols = ReadSymbolTable(image, sections, sections[dynsymIndex], versym.Type == ElfSection.ShtGnuVersym ? versym : null);
        }
        else if (sections.Count == 0)
        {
            dynamicSymbols = DynamicSegmentSymbols.Read(image, programHeaders);
        }

        int symtabIndex = sections.FindIndex(s => s.Type == ElfSection.ShtSymtab);
        if (symtabIndex >= 0)
        {
            symbols = ReadSymbolTable(image, sections, sections[symtabIndex], null);
        }

        string? buildId = ReadBuildId(image, programHeaders, sections);
        file = new ElfFile(image.Source, type, machine, programHeaders, sections, dynamicSymbols, symbols, buildId);
        return true;
    }

    private static List<ElfProgramHeader> ReadProgramHeaders(ElfImage image, ulong phoff, ushort phentsize, uint phnum)
    {
        var list = new List<ElfProgramHeader>();
        if (phnum == 0)
        {
            return list;
        }

        if (phentsize < ProgramHeaderSize)
        {
            throw new ProcParseException(image.Source, 0, $"e_phentsize {phentsize} is smaller than an Elf64_Phdr");
        }

        byte[] table = image.Read(phoff, (ulong)phentsize * phnum, "program header table");
        for (int i = 0; i < phnum; i++)
        {
            ReadOnlySpan<byte> p = table.AsSpan(i * phentsize, ProgramHeaderSize);
            list.Add(new ElfProgramHeader(U32(p, 0), U32(p, 4), U64(p, 8), U64(p, 16), U64(p, 32), U64(p, 40)));
        }

        return list;
    }

    private static List<ElfSection> ReadSections(ElfImage image, ulong shoff, ushort shentsize, uint shnum, uint shstrndx)
    {
        var list = new List<ElfSection>();
        if (shoff == 0 || shnum == 0)
        {
            return list;
        }

        if (shentsize < SectionHeaderSize)
        {
            throw new ProcParseException(image.Source, 0, $"e_shentsize {shentsize} is smaller than an Elf64_Shdr");
        }

        if (!image.Contains(shoff, (ulong)shentsize * shnum))
        {
            throw new ProcParseException(image.Source, 0, $"section header table ({shnum} entries at 0x{shoff:x}) lies outside the file");
        }

        byte[] table = image.Read(shoff, (ulong)shentsize * shnum, "section header table");
        byte[] names = [];
        if (shstrndx != 0 && shstrndx < shnum)
        {
            ReadOnlySpan<byte> s = table.AsSpan((int)shstrndx * shentsize, SectionHeaderSize);
            if (U32(s, 4) != ElfSection.ShtNobits)
            {
                names = image.Read(U64(s, 24), U64(s, 32), "section name table");
            }
        }

        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> s = table.AsSpan(i * shentsize, SectionHeaderSize);
            string name = names.Length == 0 ? "" : ReadString(names, U32(s, 0), image.Source, "section name");
            list.Add(new ElfSection(name, U32(s, 4), U64(s, 8), U64(s, 16), U64(s, 24), U64(s, 32), U32(s, 40), U32(s, 44), U64(s, 56)));
        }

        return list;
    }

    private static List<ElfSymbol> ReadSymbolTable(ElfImage image, List<ElfSection> sections, ElfSection table, ElfSection? versym)
    {
        if (table.Type == ElfSection.ShtNobits || table.Size == 0)
        {
            return [];
        }

        if (table.EntrySize != SymbolSize || table.Size % SymbolSize != 0)
        {
            throw new ProcParseException(image.Source, 0, $"{table.Name}: entry size {table.EntrySize} / size {table.Size} do not describe Elf64_Sym entries");
        }

        if (table.Link >= (uint)sections.Count)
        {
            throw new ProcParseException(image.Source, 0, $"{table.Name}: sh_link {table.Link} names no section");
        }

        ElfSection strSection = sections[(int)table.Link];
        if (strSection.Type != ElfSection.ShtStrtab)
        {
            throw new ProcParseException(image.Source, 0, $"{table.Name}: sh_link {table.Link} is not a string table");
        }

        byte[] strings = image.Read(strSection.FileOffset, strSection.Size, $"{strSection.Name} string table");
        byte[] symbolBytes = image.Read(table.FileOffset, table.Size, $"{table.Name} symbol table");
        byte[]? versions = null;
        if (versym is { } v && v.Type != ElfSection.ShtNobits)
        {
            versions = image.Read(v.FileOffset, v.Size, ".gnu.version");
        }

        return ParseSymbols(symbolBytes, strings, versions, image.Source, table.Name);
    }

    internal static List<ElfSymbol> ParseSymbols(byte[] symbolBytes, byte[] strings, byte[]? versions, string source, string tableName)
    {
        int count = symbolBytes.Length / SymbolSize;
        var list = new List<ElfSymbol>(count);
        for (int i = 1; i < count; i++)
        {
            ReadOnlySpan<byte> e = symbolBytes.AsSpan(i * SymbolSize, SymbolSize);
            ushort shndx = U16(e, 6);
            uint nameOffset = U32(e, 0);
            var symType = (ElfSymbolType)(e[4] & 0xf);
            if (shndx == 0 || nameOffset == 0 || symType is ElfSymbolType.Section or ElfSymbolType.File)
            {
                continue;
            }

            string name = ReadString(strings, nameOffset, source, tableName + " symbol name");
            bool isDefault = true;
            int at = name.IndexOf('@', StringComparison.Ordinal);
            if (at >= 0)
            {
                // .symtab spells versions into the name: name@@VER is the default, name@VER a hidden one.
                isDefault = at + 1 < name.Length && name[at + 1] == '@';
                name = name[..at];
            }

            if (versions is not null && (i * 2) + 2 <= versions.Length && (U16(versions, i * 2) & VersymHidden) != 0)
            {
                isDefault = false;
            }

            list.Add(new ElfSymbol(name, U64(e, 8), U64(e, 16), symType, (byte)(e[4] >> 4), shndx, isDefault));
        }

        return list;
    }

    private static Dictionary<string, ElfSymbol> IndexByName(IReadOnlyList<ElfSymbol> symbols)
    {
        var byName = new Dictionary<string, ElfSymbol>(symbols.Count, StringComparer.Ordinal);
        foreach (ElfSymbol s in symbols)
        {
            if (s.Name.Length == 0)
            {
                continue;
            }

            if (!byName.TryGetValue(s.Name, out ElfSymbol existing) || Rank(s) > Rank(existing))
            {
                byName[s.Name] = s;
            }
        }

        return byName;

        // Default version first, then global over weak over local.
        static int Rank(ElfSymbol s) => (s.IsDefaultVersion ? 4 : 0) + s.Binding switch { 1 => 2, 2 => 1, _ => 0 };
    }

    private static string? ReadBuildId(ElfImage image, List<ElfProgramHeader> programHeaders, List<ElfSection> sections)
    {
        foreach (ElfSection s in sections)
        {
            if (s.Type == ElfSection.ShtNote && s.Size > 0 && image.Contains(s.FileOffset, s.Size))
            {
                string? id = FindBuildIdNote(image.Read(s.FileOffset, s.Size, s.Name));
                if (id is not null)
                {
                    return id;
                }
            }
        }

        foreach (ElfProgramHeader p in programHeaders)
        {
            if (p.Type == ElfProgramHeader.PtNote && p.FileSize > 0 && p.FileSize < 1024 * 1024 && image.Contains(p.FileOffset, p.FileSize))
            {
                string? id = FindBuildIdNote(image.Read(p.FileOffset, p.FileSize, "PT_NOTE"));
                if (id is not null)
                {
                    return id;
                }
            }
        }

        return null;
    }

    /// <summary>Walks Elf64_Nhdr records (namesz, descsz, type, then name and desc each padded to 4).</summary>
    internal static string? FindBuildIdNote(ReadOnlySpan<byte> notes)
    {
        int pos = 0;
        while (notes.Length - pos >= 12)
        {
            uint namesz = U32(notes, pos);
            uint descsz = U32(notes, pos + 4);
            uint type = U32(notes, pos + 8);
            long nameStart = pos + 12L;
            long descStart = nameStart + Align4(namesz);
            long next = descStart + Align4(descsz);
            if (descStart + descsz > notes.Length || next > notes.Length + 3L)
            {
                return null;
            }

            if (type == NtGnuBuildId && namesz == 4 && notes.Slice((int)nameStart, 4).SequenceEqual("GNU\0"u8) && descsz is > 0 and <= 64)
            {
                return Convert.ToHexStringLower(notes.Slice((int)descStart, (int)descsz));
            }

            if (next <= pos)
            {
                return null;
            }

            pos = (int)Math.Min(next, notes.Length);
        }

        return null;

        static long Align4(uint n) => ((long)n + 3) & ~3L;
    }

    internal static string ReadString(byte[] table, ulong offset, string source, string what)
    {
        if (offset >= (ulong)table.Length)
        {
            throw new ProcParseException(source, 0, $"{what}: string offset 0x{offset:x} is outside its 0x{table.Length:x}-byte table");
        }

        ReadOnlySpan<byte> rest = table.AsSpan((int)offset);
        int end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw new ProcParseException(source, 0, $"{what}: string at 0x{offset:x} has no terminating NUL");
        }

        return Encoding.UTF8.GetString(rest[..end]);
    }

    internal static ushort U16(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);

    internal static uint U32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);

    internal static ulong U64(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);
}
