using MemWatch.Probes.ProcFs;

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
        foreach (MappingHeader m in ProcMaps.Parse(text, source))
        {
            if (m.Inode == 0 || m.Path.IsEmpty || m.Path[0] != (byte)'/')
            {
                continue;
            }

            list.Add(new MappedFile(m.StartAddress, m.EndAddress, m.Offset, (m.Permissions & MappingPermissions.Execute) != 0,
                m.FormatDevice(), m.Inode, System.Text.Encoding.UTF8.GetString(m.Path)));
        }

        return list;
    }
}
