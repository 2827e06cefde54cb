using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>Allocation-free enumerator over the lines of <c>/proc/PID/maps</c>; see <see cref="ProcMaps"/>.</summary>
public ref struct ProcMapsEnumerator
{
    private readonly string _source;
    private LineReader _lines;
    private MappingHeader _current;

    internal ProcMapsEnumerator(ReadOnlySpan<byte> text, string source)
    {
        _source = source;
        _lines = new LineReader(text);
        _current = default;
    }

    public readonly MappingHeader Current => _current;

    public readonly ProcMapsEnumerator GetEnumerator() => this;

    /// <exception cref="ProcParseException">A line is not a mapping header.</exception>
    public bool MoveNext()
    {
        if (!_lines.TryReadLine(out ReadOnlySpan<byte> line))
        {
            return false;
        }

        if (!MappingHeader.TryParse(line, out _current))
        {
            throw new ProcParseException(_source ?? "maps", _lines.LineNumber, MappingHeader.Describe(line));
        }

        return true;
    }
}
