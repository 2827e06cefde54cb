using System.Diagnostics.CodeAnalysis;
using System.Text;
using MemWatch.Probes.Parsing;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Injection;

/// <summary>The mappings of a target from <c>/proc/PID/maps</c> (proc(5)), sorted by address as the kernel lists them.</summary>
internal sealed class TargetMaps
{
    private readonly TargetMapping[] _mappings;

    private TargetMaps(TargetMapping[] mappings)
    {
        _mappings = mappings;
    }

    public IReadOnlyList<TargetMapping> Mappings => _mappings;

    /// <summary>The mapping that contains <paramref name="address"/>, by binary search.</summary>
    public TargetMapping? Find(ulong address)
    {
        int lo = 0;
        int hi = _mappings.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            TargetMapping m = _mappings[mid];
            if (address < m.Start)
            {
                hi = mid - 1;
            }
            else if (address >= m.End)
            {
                lo = mid + 1;
            }
            else
            {
                return m;
            }
        }

        return null;
    }

    public static TargetMaps Parse(ReadOnlySpan<byte> text, string source)
    {
        var list = new List<TargetMapping>();
        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.IsEmpty)
            {
                continue;
            }

            ReadOnlySpan<byte> rest = line;
            ReadOnlySpan<byte> range = ByteParsing.NextField(ref rest);
            ReadOnlySpan<byte> perms = ByteParsing.NextField(ref rest);
            ReadOnlySpan<byte> offset = ByteParsing.NextField(ref rest);
            ReadOnlySpan<byte> device = ByteParsing.NextField(ref rest);
            ReadOnlySpan<byte> inode = ByteParsing.NextField(ref rest);
            int dash = range.IndexOf((byte)'-');
            if (dash <= 0
                || !ByteParsing.TryParseHex(range[..dash], out ulong start)
                || !ByteParsing.TryParseHex(range[(dash + 1)..], out ulong end)
                || end < start
                || perms.Length != 4
                || !ByteParsing.TryParseHex(offset, out ulong fileOffset)
                || device.IndexOf((byte)':') <= 0
                || !ByteParsing.TryParseUInt64(inode, out ulong inodeNumber))
            {
                throw new ProcParseException(source, reader.LineNumber, $"malformed maps line: '{ByteParsing.Excerpt(line)}'");
            }

            bool exec = perms[2] == (byte)'x';
            ReadOnlySpan<byte> path = ByteParsing.TrimSpaces(rest);
            bool keepPath = !path.IsEmpty && (exec || path.SequenceEqual("[stack]"u8));
            list.Add(new TargetMapping(
                start,
                end,
                perms[0] == (byte)'r',
                perms[1] == (byte)'w',
                exec,
                fileOffset,
                inodeNumber,
                exec ? Encoding.ASCII.GetString(device) : null,
                keepPath ? Encoding.UTF8.GetString(path) : null));
        }

        return new TargetMaps([.. list]);
    }

    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out TargetMaps? value)
    {
        string path = fs.ProcessPath(pid, "maps");
        value = buffer.TryLoad(path) ? Parse(buffer.Span, path) : null;
        return value is not null;
    }
}
