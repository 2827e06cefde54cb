using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// What attribution knows of the target's code at one moment: its ELF modules, their CFI, its mappings and (for .NET)
/// its JIT perf map. Built from /proc and the files the target maps; never from its memory. Rebuilt when a sample's
/// pc lies in code loaded since (dlopen, new JIT code).
/// </summary>
internal sealed class TargetView
{
    private const long MaxPerfMapBytes = 64L * 1024 * 1024;

    private TargetView(TargetSymbols symbols, UnwindAddressSpace space, List<TargetMapping> mappings, FrameSymbolizer symbolizer)
    {
        Symbols = symbols;
        Space = space;
        Mappings = mappings;
        Symbolizer = symbolizer;
    }

    public TargetSymbols Symbols { get; }

    public UnwindAddressSpace Space { get; }

    public List<TargetMapping> Mappings { get; }

    public FrameSymbolizer Symbolizer { get; }

    public bool HasPerfMap { get; private init; }

    /// <summary>Null when the process is gone.</summary>
    public static TargetView? Load(ProcFileSystem fs, int pid, uint uid, int namespacePid)
    {
        var buffer = new FileBuffer(64 * 1024);
        if (!TargetSymbols.TryLoad(fs, pid, buffer, out TargetSymbols? symbols))
        {
            return null;
        }

        UnwindAddressSpace space = UnwindAddressSpace.Load(fs, symbols);
        List<TargetMapping> mappings = ReadMappings(fs, pid, buffer);
        bool isDotNet = symbols.FindModule("libcoreclr.so") is not null;
        PerfMap? perfMap = null;
        if (isDotNet && TargetRootFile.TryReadText(fs, pid, $"/tmp/perf-{namespacePid}.map", uid, MaxPerfMapBytes) is { } text)
        {
            perfMap = PerfMap.Parse(text);
        }

        return new TargetView(symbols, space, mappings, new FrameSymbolizer(symbols, perfMap, mappings, isDotNet)) { HasPerfMap = perfMap is not null };
    }

    public static List<TargetMapping> ReadMappings(ProcFileSystem fs, int pid, FileBuffer buffer)
    {
        var list = new List<TargetMapping>();
        if (!ProcMaps.TryRead(fs, pid, buffer, out ProcMapsEnumerator maps))
        {
            return list;
        }

        foreach (MappingHeader m in maps)
        {
            list.Add(new TargetMapping(m.StartAddress, m.EndAddress, (m.Permissions & MappingPermissions.Execute) != 0, m.Inode != 0,
                System.Text.Encoding.UTF8.GetString(m.Path)));
        }

        return list;
    }
}
