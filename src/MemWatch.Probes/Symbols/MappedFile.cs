using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.Symbols;

/// <summary>
/// One file-backed line of /proc/PID/maps (proc(5)): the minimal subset symbol resolution needs.
/// Anonymous and pseudo mappings ([heap], [stack], [vdso]) are not file-backed and are skipped.
/// </summary>
internal readonly record struct MappedFile(ulong Start, ulong End, ulong FileOffset, bool Executable, string Device, ulong Inode, string Path)
{
    public static List<MappedFile> ParseMaps(ReadOnlySpan<byte> text, string source)
    {
        var list = new List<MappedFile>();
        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            ReadOnlySpan<byte> rest = line;
            ReadOnlySpan<byte> range = ByteParsing.NextField(ref rest);
            ReadOnlySpan<byte> perms = ByteParsing.NextField(ref rest);
            ReadOnlySpan<byte> offset = ByteParsing.NextField(ref rest);
            ReadOnlySpan<byte> device = ByteParsing.NextField(ref rest);
            ReadOnlySpan<byte> inode = ByteParsing.NextField(ref rest);
            if (range.IsEmpty && perms.IsEmpty)
            {
                continue;
            }

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
                throw new ProcParseException(source, reader.LineNumber, $"not a maps line: '{ByteParsing.Excerpt(line)}'");
            }

            ReadOnlySpan<byte> path = ByteParsing.TrimSpaces(rest);
            if (inodeNumber == 0 || path.IsEmpty || path[0] != (byte)'/')
            {
                continue;
            }

            list.Add(new MappedFile(start, end, fileOffset, perms[2] == (byte)'x',
                System.Text.Encoding.ASCII.GetString(device), inodeNumber, System.Text.Encoding.UTF8.GetString(path)));
        }

        return list;
    }
}
