using System.Diagnostics.CodeAnalysis;
using System.Text;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The cgroups a process belongs to, from <c>/proc/PID/cgroup</c> (cgroups(7)): one entry per v1 hierarchy
/// and one <c>0::/path</c> entry for the v2 unified hierarchy when it is mounted.
/// </summary>
/// <remarks>
/// Sample (a hybrid host): <c>4:memory:/process_api/6a58</c>, <c>1:cpu:/</c>, <c>0::/</c>.
/// The path is everything after the second ':' so paths that contain ':' survive.
/// </remarks>
public sealed record ProcCgroup(IReadOnlyList<ProcCgroupEntry> Entries)
{
    /// <summary>The v1 entry whose controller list includes <paramref name="controller"/>, if any.</summary>
    public ProcCgroupEntry? FindController(string controller)
    {
        foreach (ProcCgroupEntry e in Entries)
        {
            if (!e.IsUnified && e.HasController(controller))
            {
                return e;
            }
        }

        return null;
    }

    /// <summary>The cgroup v2 entry (<c>0::/path</c>), if any.</summary>
    public ProcCgroupEntry? Unified
    {
        get
        {
            foreach (ProcCgroupEntry e in Entries)
            {
                if (e.IsUnified)
                {
                    return e;
                }
            }

            return null;
        }
    }

    /// <summary>Parses the text of a <c>/proc/PID/cgroup</c> file.</summary>
    /// <exception cref="ProcParseException">A line lacks its two ':' separators, a numeric id or a path.</exception>
    public static ProcCgroup Parse(ReadOnlySpan<byte> text, string source)
    {
        var entries = new List<ProcCgroupEntry>(12);
        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.IsEmpty)
            {
                continue;
            }

            int c1 = line.IndexOf((byte)':');
            int c2 = c1 < 0 ? -1 : line[(c1 + 1)..].IndexOf((byte)':');
            if (c2 < 0)
            {
                throw new ProcParseException(source, reader.LineNumber, $"expected 'id:controllers:path', got '{ByteParsing.Excerpt(line)}'");
            }

            c2 += c1 + 1;
            if (!ByteParsing.TryParseUInt64(line[..c1], out ulong id) || id > int.MaxValue)
            {
                throw new ProcParseException(source, reader.LineNumber, $"bad hierarchy id in '{ByteParsing.Excerpt(line)}'");
            }

            ReadOnlySpan<byte> controllers = line[(c1 + 1)..c2];
            ReadOnlySpan<byte> path = line[(c2 + 1)..];
            bool deleted = path.EndsWith(" (deleted)"u8);
            if (deleted)
            {
                path = path[..^" (deleted)".Length];
            }

            if (path.IsEmpty || path[0] != (byte)'/')
            {
                throw new ProcParseException(source, reader.LineNumber, $"cgroup path must start with '/': '{ByteParsing.Excerpt(line)}'");
            }

            entries.Add(new ProcCgroupEntry((int)id, Encoding.UTF8.GetString(controllers), Encoding.UTF8.GetString(path), deleted));
        }

        return new ProcCgroup(entries);
    }

    /// <summary>Reads <c>/proc/PID/cgroup</c>; false when the process is gone.</summary>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out ProcCgroup? value)
    {
        string path = fs.ProcessPath(pid, "cgroup");
        if (!buffer.TryLoad(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }
}
