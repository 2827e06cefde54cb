namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Reader for <c>/proc/PID/maps</c> (proc(5)): the process's mappings in address order, one <see cref="MappingHeader"/>
/// per line, enumerated without allocating.
/// </summary>
/// <example>
/// <code>
/// if (ProcMaps.TryRead(fs, pid, buffer, out ProcMapsEnumerator maps))
///     foreach (MappingHeader m in maps) { ... }
/// </code>
/// </example>
public static class ProcMaps
{
    /// <summary>Enumerates the mappings of maps text. Pure; the enumerator throws <see cref="ProcParseException"/> on a malformed line.</summary>
    public static ProcMapsEnumerator Parse(ReadOnlySpan<byte> text, string source) => new(text, source);

    /// <summary>
    /// Loads <c>/proc/PID/maps</c> into <paramref name="buffer"/> and enumerates it. Returns false when the process is gone.
    /// The enumerator reads from <paramref name="buffer"/>: do not reload it while enumerating.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">Not allowed to read the file (another user's process without ptrace access).</exception>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, out ProcMapsEnumerator mappings)
    {
        string path = fs.ProcessPath(pid, "maps");
        if (!buffer.TryLoad(path))
        {
            mappings = default;
            return false;
        }

        mappings = new ProcMapsEnumerator(buffer.Span, path);
        return true;
    }
}
