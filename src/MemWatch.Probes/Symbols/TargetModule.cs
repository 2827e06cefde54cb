namespace MemWatch.Probes.Symbols;

/// <summary>
/// An ELF object mapped into a target process (from /proc/PID/maps): where it is loaded, its parsed file, and its
/// separate debug file when one is installed for its build-id.
/// </summary>
public sealed class TargetModule
{
    private readonly Lazy<ElfFile?> _debugFile;

    internal TargetModule(string path, ulong baseAddress, IReadOnlyList<(ulong Start, ulong End)> executableRanges, ElfFile elf, Func<ElfFile, ElfFile?> loadDebugFile)
    {
        Path = path;
        BaseAddress = baseAddress;
        ExecutableRanges = executableRanges;
        Elf = elf;
        _debugFile = new Lazy<ElfFile?>(() => loadDebugFile(elf), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The path as the target sees it (in its own mount namespace).</summary>
    public string Path { get; }

    public string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>Start of the mapping at file offset 0: the load base.</summary>
    public ulong BaseAddress { get; }

    /// <summary>The module's executable mappings in the target, [Start, End).</summary>
    public IReadOnlyList<(ulong Start, ulong End)> ExecutableRanges { get; }

    public ElfFile Elf { get; }

    /// <summary>The separate debug file found by build-id, or null when none is installed (loaded on first use).</summary>
    public ElfFile? DebugFile => _debugFile.Value;

    /// <summary>Where <paramref name="symbol"/> of this file (or of its debug file, which shares the layout) lives in the target.</summary>
    public ulong AddressOf(ElfSymbol symbol) => BaseAddress + symbol.Value - Elf.FirstLoadVirtualAddress;

    public override string ToString() => $"{Path}@0x{BaseAddress:x}";
}
