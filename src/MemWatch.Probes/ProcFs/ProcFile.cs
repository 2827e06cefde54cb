using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// A /proc/PID file kept open to be read again and again (<see cref="FileBuffer.TryReload"/>): each reading is one
/// pread from offset 0, where opening by path is open, read and close plus a walk of the path. The descriptor stays
/// bound to the process it was opened for: once that exits, reads fail with ESRCH, even when the PID has been reused,
/// so a held file never reads another process.
/// </summary>
/// <remarks>
/// One descriptor per held file, and the kernel keeps a page for its text while it is open. Not thread safe for
/// reading: the reader's <see cref="FileBuffer"/> is not.
/// </remarks>
public sealed class ProcFile : IDisposable
{
    private ProcFile(SafeFileHandle handle, string path, bool singleShow)
    {
        Handle = handle;
        Path = path;
        SingleShow = singleShow;
    }

    public string Path { get; }

    /// <summary>Generated in one piece (status, stat, statm, smaps_rollup): see <see cref="FileBuffer.TryLoadSingleShow"/>.</summary>
    public bool SingleShow { get; }

    internal SafeFileHandle Handle { get; }

    /// <summary>
    /// Opens <paramref name="name"/> of process <paramref name="pid"/> to hold. Null when the process is gone or when
    /// no descriptor is to be had (EMFILE, ENFILE): the caller reads by path instead. Throws
    /// <see cref="UnauthorizedAccessException"/> or <see cref="IOException"/> as <see cref="FileBuffer.TryLoad"/> does.
    /// </summary>
    public static ProcFile? TryOpen(ProcFileSystem fs, int pid, string name, bool singleShow = true)
    {
        string path = fs.ProcessPath(pid, name);
        int fd = FileBuffer.OpenReadOnly(path, out int errno);
        if (fd < 0)
        {
            return errno is Errno.ENOENT or Errno.ESRCH or Errno.EMFILE or Errno.ENFILE ? null : throw FileBuffer.ErrorFor(errno, path);
        }

        return new ProcFile(new SafeFileHandle(fd, ownsHandle: true), path, singleShow);
    }

    public void Dispose() => Handle.Dispose();
}
