namespace MemWatch.Probes.Symbols;

/// <summary>One Elf64_Phdr (elf(5)): a segment the loader maps.</summary>
public readonly record struct ElfProgramHeader(
    uint Type,
    uint Flags,
    ulong FileOffset,
    ulong VirtualAddress,
    ulong FileSize,
    ulong MemorySize)
{
    public const uint PtLoad = 1;
    public const uint PtDynamic = 2;
    public const uint PtNote = 4;

    /// <summary>PF_X: the segment holds code.</summary>
    public bool IsExecutable => (Flags & 1) != 0;
}
