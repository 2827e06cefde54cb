using MemWatch.Probes.Files;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.Runtimes;

/// <summary>
/// Reads a small regular file inside a process's root (<c>/proc/PID/root</c>) as untrusted input, through
/// <see cref="ProcessRoot"/>: resolved inside that root without following any link, non-blocking, a regular file no
/// larger than the caller's bound (no FIFO that blocks, no device, no sparse giant).
/// </summary>
public static class ConfinedFile
{
    /// <summary>The file's bytes, or null with the reason (absent, a symlink on the way, not regular, too large).</summary>
    /// <param name="root">The process's root, e.g. <c>/proc/1234/root</c>.</param>
    /// <param name="relativePath">The path below it, as the process sees it (with or without a leading slash).</param>
    /// <param name="maxBytes">Larger files are refused.</param>
    /// <param name="problem">Why there are no bytes; null when read.</param>
    public static byte[]? TryRead(string root, string relativePath, int maxBytes, out string? problem)
    {
        try
        {
            using ProcessRoot processRoot = ProcessRoot.Open(root);
            using SafeFileHandle handle = processRoot.OpenRegularFile(relativePath, maxBytes);
            return ReadAll(handle, maxBytes, relativePath, out problem);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }
    }

    private static byte[]? ReadAll(SafeFileHandle handle, int maxBytes, string name, out string? problem)
    {
        // The size was checked on the descriptor, but the file may grow after: never read past the bound.
        long length = Math.Min(RandomAccess.GetLength(handle), maxBytes);
        byte[] data = new byte[length];
        int total = 0;
        while (total < data.Length)
        {
            int n = RandomAccess.Read(handle, data.AsSpan(total), total);
            if (n <= 0)
            {
                break;
            }

            total += n;
        }

        problem = total == data.Length ? null : $"{name}: short read ({total} of {data.Length} bytes)";
        return problem is null ? data : null;
    }
}
