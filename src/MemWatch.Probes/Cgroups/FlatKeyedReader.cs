using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.Cgroups;

/// <summary>
/// Walks a cgroup "flat-keyed" file (<c>key value</c> per line: memory.stat, memory.events, v1 memory.oom_control)
/// without allocating. Values are unsigned decimals; anything else is malformed.
/// </summary>
internal ref struct FlatKeyedReader
{
    private LineReader _lines;
    private readonly string _source;

    public FlatKeyedReader(ReadOnlySpan<byte> text, string source)
    {
        _lines = new LineReader(text);
        _source = source;
    }

    public readonly int LineNumber => _lines.LineNumber;

    /// <exception cref="ProcParseException">A line is not <c>key value</c> with a decimal value.</exception>
    public bool TryNext(out ReadOnlySpan<byte> key, out ulong value)
    {
        while (_lines.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (ByteParsing.TrimSpaces(line).IsEmpty)
            {
                continue;
            }

            ReadOnlySpan<byte> trimmed = ByteParsing.TrimSpaces(line);
            int gap = trimmed.IndexOfAny((byte)' ', (byte)'\t');
            key = gap < 0 ? trimmed : trimmed[..gap];
            ReadOnlySpan<byte> number = gap < 0 ? default : ByteParsing.TrimSpaces(trimmed[gap..]);
            if (!ByteParsing.TryParseUInt64(number, out value))
            {
                throw new ProcParseException(_source, _lines.LineNumber, $"expected 'key value', got '{ByteParsing.Excerpt(line)}'");
            }

            return true;
        }

        key = default;
        value = 0;
        return false;
    }
}
