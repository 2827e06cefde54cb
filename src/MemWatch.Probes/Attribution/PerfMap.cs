using System.Globalization;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// A JIT's perf map, <c>/tmp/perf-PID.map</c> (the format of the Linux perf tool's jit interface): one
/// <c>START SIZE name</c> line per generated method, in hex with or without <c>0x</c>. .NET writes it when
/// <c>DOTNET_PerfMapEnabled</c> is set. Hostile lines are skipped, names are cut at 512 characters.
/// </summary>
public sealed class PerfMap
{
    private const int MaxNameLength = 512;

    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly string[] _names;

    private PerfMap(List<(ulong Start, ulong End, string Name)> entries)
    {
        entries.Sort((a, b) => a.Start.CompareTo(b.Start));
        _starts = entries.Select(e => e.Start).ToArray();
        _ends = entries.Select(e => e.End).ToArray();
        _names = entries.Select(e => e.Name).ToArray();
    }

    public int Count => _starts.Length;

    public static PerfMap Parse(string text)
    {
        var entries = new List<(ulong, ulong, string)>();
        foreach (string raw in text.Split('\n'))
        {
            string[] parts = raw.TrimEnd('\r').Split(' ', 3);
            if (parts.Length < 3
                || !ulong.TryParse(Hex(parts[0]), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(Hex(parts[1]), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong size)
                || size == 0 || start + size < start)
            {
                continue;
            }

            string name = new(parts[2].Where(c => !char.IsControl(c)).Take(MaxNameLength).ToArray());
            entries.Add((start, start + size, name.Length == 0 ? "[jit]" : name));
        }

        return new PerfMap(entries);

        // .NET writes "0x7fe2a6282b40 b1 name"; perf's own examples have no prefix.
        static string Hex(string s) => s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s;
    }

    public bool TryFind(ulong pc, out string name, out ulong start)
    {
        int lo = 0;
        int hi = _starts.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (pc < _starts[mid])
            {
                hi = mid - 1;
            }
            else if (pc >= _ends[mid])
            {
                lo = mid + 1;
            }
            else
            {
                name = _names[mid];
                start = _starts[mid];
                return true;
            }
        }

        name = "";
        start = 0;
        return false;
    }
}
