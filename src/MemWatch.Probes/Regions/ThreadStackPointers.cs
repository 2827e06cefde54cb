using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Regions;

/// <summary>Collects the stack pointers of a process's blocked threads from <c>/proc/PID/task/TID/syscall</c>.</summary>
internal static class ThreadStackPointers
{
    /// <summary>
    /// Adds the stack pointer of each thread that is blocked (running threads report no registers) to
    /// <paramref name="into"/>, sorted. Threads that exit meanwhile are skipped; no access (the file needs ptrace access)
    /// leaves the list empty.
    /// </summary>
    public static void Read(ProcFileSystem fs, int pid, FileBuffer buffer, List<ulong> into)
    {
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.EnumerateDirectories(fs.ProcessPath(pid, "task"));
            foreach (string dir in tasks)
            {
                if (!int.TryParse(Path.GetFileName(dir), out int tid))
                {
                    continue;
                }

                string path = fs.ThreadPath(pid, tid, "syscall");
                if (!buffer.TryLoad(path))
                {
                    continue;
                }

                ProcTaskSyscall syscall = ProcTaskSyscall.Parse(buffer.Span, path);
                if (!syscall.Running)
                {
                    into.Add(syscall.StackPointer);
                }
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException || FileBuffer.IsGone(e))
        {
            // Not allowed to see registers, or the process exited: classify by layout alone.
        }

        into.Sort();
    }
}
