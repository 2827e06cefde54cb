namespace MemWatch.Probes.Symbols;

/// <summary>ELF64_ST_TYPE values (elf(5)) that matter for resolving functions and data.</summary>
public enum ElfSymbolType : byte
{
    NoType = 0,
    Object = 1,
    Function = 2,
    Section = 3,
    File = 4,
    Common = 5,
    Tls = 6,

    /// <summary>STT_GNU_IFUNC: the address is a resolver that returns the implementation, not the function itself.</summary>
    IndirectFunction = 10,
}
