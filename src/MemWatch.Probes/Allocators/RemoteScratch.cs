using System.Text;

namespace MemWatch.Probes.Allocators;

/// <summary>Lays out a scratch block: fixed out-parameter slots first, then a NUL-terminated name.</summary>
internal static class RemoteScratch
{
    /// <summary>Writes <paramref name="name"/> NUL-terminated at <paramref name="offset"/> and returns the block length used.</summary>
    public static int WriteName(Span<byte> scratch, int offset, string name)
    {
        int n = Encoding.ASCII.GetBytes(name, scratch[offset..]);
        scratch[offset + n] = 0;
        return offset + n + 1;
    }
}
