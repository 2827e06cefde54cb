using System.Runtime.InteropServices;

namespace MemWatch.Probes.Runtimes;

/// <summary>
/// Reads a small regular file inside a process's root (<c>/proc/PID/root</c>) as untrusted input: the path is resolved
/// beneath that root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so no symlink a
/// container planted (in any component) leads out of it; the file must be a regular file (no FIFO that blocks, no
/// device), opened non-blocking, and no larger than the caller's bound.
/// </summary>
public static class ConfinedFile
{
    private const uint S_IFMT = 0xF000;
    private const uint S_IFREG = 0x8000;

    /// <summary>The file's bytes, or null with the reason (absent, a symlink on the way, not regular, too large).</summary>
    /// <param name="root">The directory to stay beneath, e.g. <c>/proc/1234/root</c>.</param>
    /// <param name="relativePath">The path below it, without a leading slash.</param>
    /// <param name="maxBytes">Larger files are refused.</param>
    /// <param name="problem">Why there are no bytes; null when read.</param>
    public static byte[]? TryRead(string root, string relativePath, int maxBytes, out string? problem)
    {
        int dir = Interop.Libc.Open(root, Interop.Libc.O_PATH | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC);
        if (dir < 0)
        {
            problem = $"{root}: {Marshal.GetLastPInvokeErrorMessage()}";
            return null;
        }

        try
        {
            int fd = Interop.Libc.OpenAt2(dir, relativePath,
                Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC | Interop.Libc.O_NOFOLLOW | Interop.Libc.O_NONBLOCK,
                Interop.Libc.RESOLVE_BENEATH | Interop.Libc.RESOLVE_NO_SYMLINKS | Interop.Libc.RESOLVE_NO_MAGICLINKS);
            if (fd < 0)
            {
                problem = $"{relativePath}: {Marshal.GetLastPInvokeErrorMessage()}";
                return null;
            }

            try
            {
                if (!Interop.Libc.FStat(fd, out uint mode, out long size) || (mode & S_IFMT) != S_IFREG)
                {
                    problem = $"{relativePath}: not a regular file";
                    return null;
                }

                if (size > maxBytes)
                {
                    problem = $"{relativePath}: {size} bytes, more than the {maxBytes} allowed";
                    return null;
                }

                return ReadAll(fd, (int)size, relativePath, out problem);
            }
            finally
            {
                Interop.Libc.Close(fd);
            }
        }
        finally
        {
            Interop.Libc.Close(dir);
        }
    }

    private static unsafe byte[]? ReadAll(int fd, int size, string name, out string? problem)
    {
        byte[] data = new byte[size];
        int total = 0;
        fixed (byte* p = data)
        {
            while (total < size)
            {
                nint n = Interop.Libc.Read(fd, p + total, size - total);
                if (n < 0 && Marshal.GetLastPInvokeError() == Interop.Libc.EINTR)
                {
                    continue;
                }

                if (n <= 0)
                {
                    break;
                }

                total += (int)n;
            }
        }

        problem = total == size ? null : $"{name}: short read ({total} of {size} bytes)";
        return problem is null ? data : null;
    }
}
