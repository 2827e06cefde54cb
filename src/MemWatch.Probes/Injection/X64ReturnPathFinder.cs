using System.Collections.Concurrent;

namespace MemWatch.Probes.Injection;

/// <summary>
/// Locates the <see cref="X64ReturnPath"/> in a target's executable mappings, libc first. Results are cached
/// per mapped file (device, inode, file offset, size) as offsets, so processes that share a libc scan it once.
/// </summary>
internal static class X64ReturnPathFinder
{
    private static readonly ConcurrentDictionary<string, ScanResult> s_cache = new();

    public static X64ReturnPath? Find(int pid, TargetMaps maps)
    {
        ulong? restorer = null;
        X64ReturnPath? capture = null;
        foreach (TargetMapping m in maps.Mappings.Where(m => m.Executable && m.Path is not null && m.Path[0] == '/')
                     .OrderBy(m => IsLibc(m.Path!) ? 0 : 1))
        {
            ScanResult scan = s_cache.GetOrAdd($"{m.Device}:{m.Inode}:{m.Offset}:{m.End - m.Start}", _ => Scan(pid, m));
            if (scan.Unreadable)
            {
                // Not cached: another process may read it fine.
                s_cache.TryRemove($"{m.Device}:{m.Inode}:{m.Offset}:{m.End - m.Start}", out _);
                continue;
            }

            if (restorer is null && scan.Restorer >= 0)
            {
                restorer = m.Start + (ulong)scan.Restorer;
            }

            if (capture is null && scan.Capture >= 0)
            {
                capture = new X64ReturnPath(0, m.Start + (ulong)scan.Capture, scan.StackBytes, scan.Register, scan.ToMemory, scan.Displacement);
            }

            if (restorer is not null && capture is not null)
            {
                return capture.Value with { Restorer = restorer.Value };
            }
        }

        return null;
    }

    private static bool IsLibc(string path)
    {
        string name = Path.GetFileName(path);
        return name.StartsWith("libc.so", StringComparison.Ordinal) || name.StartsWith("libc-", StringComparison.Ordinal)
            || name.StartsWith("ld-musl", StringComparison.Ordinal);
    }

    private static ScanResult Scan(int pid, TargetMapping m)
    {
        ulong length = m.End - m.Start;
        if (length > 256UL * 1024 * 1024 || !m.Readable)
        {
            return new ScanResult(-1, -1, 0, 0, false, 0, Unreadable: !m.Readable);
        }

        byte[] code = new byte[length];
        long read = Interop.Libc.ReadProcessMemory(pid, m.Start, code);
        if (read <= 0)
        {
            return new ScanResult(-1, -1, 0, 0, false, 0, Unreadable: true);
        }

        ReadOnlySpan<byte> text = code.AsSpan(0, (int)read);
        int restorer = X64ReturnPathScanner.FindRestorer(text);
        int capture = X64ReturnPathScanner.FindCapture(text, out int stack, out int register, out bool toMemory, out int displacement);
        return new ScanResult(restorer, capture, stack, register, toMemory, displacement, Unreadable: read < (long)length);
    }

    private sealed record ScanResult(int Restorer, int Capture, int StackBytes, int Register, bool ToMemory, int Displacement, bool Unreadable);
}
