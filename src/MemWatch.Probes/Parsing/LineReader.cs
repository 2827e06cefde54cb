namespace MemWatch.Probes.Parsing;

/// <summary>
/// Walks the lines of a kernel text file held in a byte span, without allocating.
/// Tracks the 1-based line number for <see cref="ProcParseException"/>.
/// </summary>
internal ref struct LineReader
{
    private ReadOnlySpan<byte> _rest;

    public LineReader(ReadOnlySpan<byte> text)
    {
        _rest = text;
        LineNumber = 0;
    }

    /// <summary>1-based number of the line last returned by <see cref="TryReadLine"/>.</summary>
    public int LineNumber { get; private set; }

    /// <summary>True when a final line had no terminating newline (a hint of truncation).</summary>
    public bool LastLineUnterminated { get; private set; }

    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        if (_rest.IsEmpty)
        {
            line = default;
            return false;
        }

        LineNumber++;
        int nl = _rest.IndexOf((byte)'\n');
        if (nl < 0)
        {
            line = _rest;
            _rest = default;
            LastLineUnterminated = true;
            return true;
        }

        line = _rest[..nl];
        _rest = _rest[(nl + 1)..];
        return true;
    }
}
