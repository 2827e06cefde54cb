namespace MemWatch.Probes.Symbols;

/// <summary>One Elf64_Shdr (elf(5)).</summary>
public readonly record struct ElfSection(
    string Name,
    uint Type,
    ulong Flags,
    ulong Address,
    ulong FileOffset,
    ulong Size,
    uint Link,
    uint Info,
    ulong EntrySize)
{
    public const uint ShtSymtab = 2;
    public const uint ShtStrtab = 3;
    public const uint ShtNote = 7;
    public const uint ShtNobits = 8;
    public const uint ShtDynsym = 11;
    public const uint ShtGnuVersym = 0x6fffffff;
}
