namespace MemWatch.Probes.Symbols;

/// <summary>A defined symbol from .dynsym or .symtab (Elf64_Sym, elf(5)), with any <c>@VERSION</c> suffix removed from the name.</summary>
/// <remarks>
/// <c>Value</c> is st_value, an address in the file's link-time layout; <c>Binding</c> is ELF64_ST_BIND (0 local,
/// 1 global, 2 weak); <c>IsDefaultVersion</c> is false for a hidden (non-default, <c>name@VER</c>) version.
/// </remarks>
public readonly record struct ElfSymbol(
    string Name,
    ulong Value,
    ulong Size,
    ElfSymbolType Type,
    byte Binding,
    ushort SectionIndex,
    bool IsDefaultVersion)
{
    public bool IsLocal => Binding == 0;
}
