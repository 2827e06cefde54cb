using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// Names a call-site address of the target: the ELF module whose executable mapping holds it and the function from
/// its symbol tables (and its debug file found by build-id), C++ names demangled; JIT code from the runtime's perf
/// map; other code of a .NET process (JIT code without a perf map, ReadyToRun images) as <c>[managed code]</c>;
/// anything else as <c>[unknown]</c>. Never a name read from the target's memory.
/// </summary>
internal sealed class FrameSymbolizer(TargetSymbols symbols, PerfMap? perfMap, IReadOnlyList<TargetMapping> mappings, bool isDotNet)
{
    private readonly Dictionary<ulong, AttributionFrame> _cache = [];
    private readonly Dictionary<string, string> _demangled = new(StringComparer.Ordinal);

    public bool IsDotNet => isDotNet;

    /// <summary>True for a pc in executable memory no ELF module covers, in a .NET process: code the JIT or ReadyToRun made.</summary>
    public bool IsManagedCode(ulong pc)
    {
        if (!isDotNet || FindModule(pc) is not null)
        {
            return false;
        }

        if (perfMap is not null && perfMap.TryFind(pc, out _, out _))
        {
            return true;
        }

        TargetMapping? m = FindMapping(pc);
        return m is { Executable: true };
    }

    public AttributionFrame Symbolize(ulong pc)
    {
        if (_cache.TryGetValue(pc, out AttributionFrame? cached))
        {
            return cached;
        }

        AttributionFrame frame = Resolve(pc);
        _cache[pc] = frame;
        return frame;
    }

    private AttributionFrame Resolve(ulong pc)
    {
        if (FindModule(pc) is { } module)
        {
            ulong bias = module.BaseAddress - module.Elf.FirstLoadVirtualAddress;
            ulong linkAddress = pc - bias;
            return FunctionIndex.For(module).TryFind(linkAddress, out string name, out ulong start)
                ? new AttributionFrame(Demangle(name), module.FileName, linkAddress - start)
                : new AttributionFrame("[unknown]", module.FileName, linkAddress);
        }

        if (perfMap is not null && perfMap.TryFind(pc, out string jitName, out ulong jitStart))
        {
            return new AttributionFrame(jitName, "[jit]", pc - jitStart);
        }

        TargetMapping? mapping = FindMapping(pc);
        if (isDotNet && mapping is { Executable: true } m)
        {
            // The runtime's W^X double mapping of its code heap is a memfd: JIT code too.
            bool jit = !m.FileBacked || m.Path.StartsWith("/memfd:doublemapper", StringComparison.Ordinal);
            return new AttributionFrame("[managed code]", jit ? "[jit]" : System.IO.Path.GetFileName(m.Path), pc - m.Start);
        }

        return mapping is { } other
            ? new AttributionFrame("[unknown]", other.Path.Length > 0 ? System.IO.Path.GetFileName(other.Path) : "[anon]", pc - other.Start)
            : new AttributionFrame("[unknown]", "[unknown]", pc);
    }

    private string Demangle(string name)
    {
        if (!name.StartsWith("_Z", StringComparison.Ordinal))
        {
            return name;
        }

        if (!_demangled.TryGetValue(name, out string? d))
        {
            d = Interop.Cxx.TryDemangle(name) ?? name;
            _demangled[name] = d;
        }

        return d;
    }

    private TargetModule? FindModule(ulong pc)
    {
        foreach (TargetModule m in symbols.Modules)
        {
            foreach ((ulong start, ulong end) in m.ExecutableRanges)
            {
                if (pc >= start && pc < end)
                {
                    return m;
                }
            }
        }

        return null;
    }

    private TargetMapping? FindMapping(ulong pc)
    {
        foreach (TargetMapping m in mappings)
        {
            if (pc >= m.Start && pc < m.End)
            {
                return m;
            }
        }

        return null;
    }
}
