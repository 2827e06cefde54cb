using System.Runtime.CompilerServices;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// The function symbols of one ELF file sorted by link-time address, for address-to-name lookup: .dynsym, .symtab and
/// the separate debug file's .symtab. Built once per parsed file.
/// </summary>
internal sealed class FunctionIndex
{
    private static readonly ConditionalWeakTable<ElfFile, FunctionIndex> s_cache = [];

    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly string[] _names;

    private FunctionIndex(List<(ulong Start, ulong End, string Name)> functions)
    {
        functions.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.End.CompareTo(a.End));
        _starts = functions.Select(f => f.Start).ToArray();
        _ends = functions.Select(f => f.End).ToArray();
        _names = functions.Select(f => f.Name).ToArray();
    }

    public static FunctionIndex For(TargetModule module)
        => s_cache.GetValue(module.Elf, _ => Build(module.Elf, module.DebugFile));

    internal static FunctionIndex Build(ElfFile elf, ElfFile? debug)
    {
        var seen = new HashSet<(ulong, string)>();
        var list = new List<(ulong, ulong, string)>();
        Add(elf.DynamicSymbols);
        Add(elf.Symbols);
        if (debug is not null)
        {
            Add(debug.Symbols);
        }

        return new FunctionIndex(list);

        void Add(IReadOnlyList<ElfSymbol> symbols)
        {
            foreach (ElfSymbol s in symbols)
            {
                if (s.Type is ElfSymbolType.Function or ElfSymbolType.IndirectFunction && s.Name.Length > 0 && seen.Add((s.Value, s.Name)))
                {
                    list.Add((s.Value, s.Value + Math.Max(1, s.Size), s.Name));
                }
            }
        }
    }

    /// <summary>The function containing link-time address <paramref name="address"/>, and its start.</summary>
    public bool TryFind(ulong address, out string name, out ulong start)
    {
        int lo = 0;
        int hi = _starts.Length - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_starts[mid] <= address)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        // Symbols may nest (an alias with a larger size): look back a little for one that covers the address.
        for (int i = found; i >= 0 && i > found - 8; i--)
        {
            if (address < _ends[i])
            {
                name = _names[i];
                start = _starts[i];
                return true;
            }
        }

        name = "";
        start = 0;
        return false;
    }
}
