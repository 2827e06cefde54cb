namespace MemWatch.Probes;

/// <summary>
/// The one exception every MemWatch reader throws when a kernel file's contents do not match its
/// documented format (truncated, garbled, an unparsable number). It names the file and the 1-based line.
/// </summary>
/// <remarks>
/// A process that exits while it is being read is not malformed input: readers report that through
/// their <c>Try*</c> result instead. Unknown fields and missing optional fields are tolerated.
/// </remarks>
public sealed class ProcParseException : Exception
{
    public ProcParseException(string file, int line, string message)
        : base($"{file}:{line}: {message}")
    {
        File = file;
        Line = line;
    }

    /// <summary>The file that was parsed (a path, or a name such as <c>smaps</c> for in-memory input).</summary>
    public string File { get; }

    /// <summary>1-based line number where parsing failed; 0 when the whole file is at fault.</summary>
    public int Line { get; }
}
