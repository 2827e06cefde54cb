namespace MemWatch.Probes.Symbols;

/// <summary>A symbol resolved to its address inside a target process.</summary>
/// <remarks><c>FromDebugFile</c> is true when the symbol came from the separate debug file's .symtab (e.g. <c>main_arena</c>).</remarks>
public readonly record struct TargetSymbolAddress(
    string Name,
    ulong Address,
    ulong Size,
    ElfSymbolType Type,
    TargetModule Module,
    bool FromDebugFile);
