using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// The one place where attribution opens a file of the target's own filesystem (its JIT perf map), through
/// <c>/proc/PID/root</c> so that a container's /tmp is the one read. The file must be a regular file owned by the
/// target's uid (or root), and at most <c>maxBytes</c> long: a target cannot make MemWatch read another file of
/// its choosing through a symbolic link.
/// </summary>
internal static class TargetRootFile
{
    /// <summary>The file's text, or null when it is absent or fails a check.</summary>
    public static string? TryReadText(ProcFileSystem fs, int pid, string absolutePath, uint targetUid, long maxBytes)
    {
        string path = fs.ProcessPath(pid, "root") + absolutePath;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.LinkTarget is not null || info.Length > maxBytes)
            {
                return null;
            }

            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            if (!Interop.Libc.TryFStatOwner(handle, out uint uid, out bool regular) || !regular || (uid != targetUid && uid != 0))
            {
                return null;
            }

            long length = Math.Min(RandomAccess.GetLength(handle), maxBytes);
            var bytes = new byte[length];
            int read = 0;
            while (read < bytes.Length)
            {
                int n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            return System.Text.Encoding.UTF8.GetString(bytes, 0, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
