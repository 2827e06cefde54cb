namespace MemWatch.Probes.ProcFs;

/// <summary>How many descriptors a process has open: <c>/proc/PID/fd</c>.</summary>
public static class OpenDescriptors
{
    /// <summary>
    /// The count, or null when the directory cannot be read. Since Linux 6.2 stat(2) of a proc fd directory reports
    /// the count as its size, taken from the descriptor table's bitmap; listing the directory instead builds a dentry
    /// per descriptor, and the daemon holds two per watched process: at 300 targets the listing took a fifth of the
    /// daemon's CPU, one per /metrics scrape. Older kernels report size 0 and a fixture tree is not procfs: both list.
    /// </summary>
    public static int? Count(ProcFileSystem fs, int pid)
    {
        string path = fs.ProcessPath(pid, "fd");
        if (Interop.Libc.FileSystemType(path) == Interop.Libc.PROC_SUPER_MAGIC
            && Interop.Libc.StatxPath(path, Interop.Libc.STATX_SIZE, out Interop.Libc.Statx stat) == 0
            && (stat.stx_mask & Interop.Libc.STATX_SIZE) != 0 && stat.stx_size is > 0 and <= int.MaxValue)
        {
            return (int)stat.stx_size;
        }

        try
        {
            return Directory.EnumerateFileSystemEntries(path).Count();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
