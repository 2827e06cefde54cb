using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Parsing;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Cgroups;

/// <summary>
/// The processes of one cgroup, from its <c>cgroup.procs</c> (cgroups(7)): one thread-group id per line,
/// unsorted, possibly with duplicates. Only the cgroup itself, not its descendants.
/// </summary>
public sealed record CgroupProcs(IReadOnlyList<int> Pids)
{
    /// <exception cref="ProcParseException">A line is not a positive process id.</exception>
    public static CgroupProcs Parse(ReadOnlySpan<byte> text, string source)
    {
        var pids = new List<int>();
        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            ReadOnlySpan<byte> trimmed = ByteParsing.TrimSpaces(line);
            if (trimmed.IsEmpty)
            {
                continue;
            }

            if (!ByteParsing.TryParseUInt64(trimmed, out ulong pid) || pid == 0 || pid > int.MaxValue)
            {
                throw new ProcParseException(source, reader.LineNumber, $"expected a process id, got '{ByteParsing.Excerpt(line)}'");
            }

            pids.Add((int)pid);
        }

        return new CgroupProcs(pids);
    }

    /// <summary>Reads <c>{directory}/cgroup.procs</c>; false when the cgroup directory is gone.</summary>
    public static bool TryRead(string directory, FileBuffer buffer, [NotNullWhen(true)] out CgroupProcs? value)
    {
        string path = $"{directory}/cgroup.procs";
        if (!buffer.TryLoad(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }
}
