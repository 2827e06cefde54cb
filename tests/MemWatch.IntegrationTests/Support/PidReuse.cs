namespace MemWatch.IntegrationTests.Support;

/// <summary>Gives a new process a PID that another one had, through /proc/sys/kernel/ns_last_pid.</summary>
public static class PidReuse
{
    /// <summary>
    /// Starts the workload so that it gets <paramref name="pid"/>: the shell and the workload are the next two PIDs after
    /// ns_last_pid, unless a thread of this process or another process takes one in between: the offset is varied and
    /// the start retried; null if it never worked.
    /// </summary>
    public static Workload? StartWithPid(int pid, string source, string arguments = "")
    {
        Workload.Build(source);
        for (int attempt = 0; attempt < 60; attempt++)
        {
            int offset = 2 + (attempt % 3);
            File.WriteAllText("/proc/sys/kernel/ns_last_pid", (pid - offset).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Workload w = Workload.Start(source, arguments);
            if (w.Pid == pid)
            {
                return w;
            }

            w.Dispose();
        }

        return null;
    }
}
