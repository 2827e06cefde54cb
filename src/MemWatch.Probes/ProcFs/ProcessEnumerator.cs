using System.IO.Enumeration;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Lists the process ids in the proc root and the thread ids in <c>/proc/[pid]/task</c> (proc(5)).
/// </summary>
/// <remarks>
/// Names are read as spans from the directory stream, so no string is made per entry. Processes come and go
/// while a directory is read: a directory that vanishes (ENOENT, ESRCH) ends that listing quietly, and an
/// id that is listed may be gone by the time it is read, which every reader reports as false.
/// </remarks>
public static class ProcessEnumerator
{
    /// <summary>The numeric entries of the proc root: every process visible to this one.</summary>
    /// <exception cref="DirectoryNotFoundException">The proc root itself does not exist.</exception>
    public static IEnumerable<int> EnumerateProcessIds(ProcFileSystem fs)
    {
        ArgumentNullException.ThrowIfNull(fs);
        if (!Directory.Exists(fs.Root))
        {
            throw new DirectoryNotFoundException($"no proc filesystem at {fs.Root}");
        }

        return new IdEnumerable(fs.Root);
    }

    /// <summary>The numeric entries of <c>/proc/[pid]/task</c>; empty when the process is gone.</summary>
    public static IEnumerable<int> EnumerateThreadIds(ProcFileSystem fs, int pid)
    {
        ArgumentNullException.ThrowIfNull(fs);
        return new IdEnumerable(fs.ProcessPath(pid, "task"));
    }

    /// <summary>Parses a directory entry name as a positive decimal id; false for anything else.</summary>
    internal static bool TryParseId(ReadOnlySpan<char> name, out int id)
    {
        id = 0;
        if (name.IsEmpty || name.Length > 10)
        {
            return false;
        }

        long value = 0;
        foreach (char c in name)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        if (value is 0 or > int.MaxValue)
        {
            return false;
        }

        id = (int)value;
        return true;
    }

    private sealed class IdEnumerable(string directory) : IEnumerable<int>
    {
        public IEnumerator<int> GetEnumerator() => new IdEnumerator(directory);

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class IdEnumerator(string directory)
        : FileSystemEnumerator<int>(directory, new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0 })
    {
        protected override bool ShouldIncludeEntry(ref FileSystemEntry entry) => TryParseId(entry.FileName, out _);

        protected override int TransformEntry(ref FileSystemEntry entry)
        {
            TryParseId(entry.FileName, out int id);
            return id;
        }

        // A task directory whose process exits while it is being opened or read: the listing simply ends.
        protected override bool ContinueOnError(int error) => error is Errno.ENOENT or Errno.ESRCH;
    }
}
