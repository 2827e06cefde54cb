using System.Diagnostics.CodeAnalysis;
using System.Text;
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

    /// <summary>The mapping that ends exactly where <paramref name="mapping"/> starts, if any.</summary>
    public TargetMapping? Below(TargetMapping mapping)
    {
        TargetMapping? below = mapping.Start == 0 ? null : Find(mapping.Start - 1);
        return below is { } b && b.End == mapping.Start ? b : null;
    }

    public static TargetMaps Parse(ReadOnlySpan<byte> text, string source)
    {
        var list = new List<TargetMapping>();
        foreach (MappingHeader m in ProcMaps.Parse(text, source))
        {
            bool exec = (m.Permissions & MappingPermissions.Execute) != 0;
            bool keepPath = !m.Path.IsEmpty && (exec || m.Path[0] == (byte)'[');
            list.Add(new TargetMapping(
                m.StartAddress,
                m.EndAddress,
                (m.Permissions & MappingPermissions.Read) != 0,
                (m.Permissions & MappingPermissions.Write) != 0,
                exec,
                m.Offset,
                m.Inode,
                exec ? m.FormatDevice() : null,
                keepPath ? Encoding.UTF8.GetString(m.Path) : null));
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
