namespace MemWatch.Probes.ProcFs;

/// <summary>This process's limit on open descriptors (RLIMIT_NOFILE).</summary>
public static class OpenFileLimit
{
    /// <summary>
    /// Raises the soft limit to the hard one, as systemd advises for programs that need many descriptors and never
    /// use select(2): its default soft limit is 1024, and the daemon holds two /proc files per watched process. Returns
    /// the soft limit in force afterwards, or null when it cannot be read.
    /// </summary>
    /// <summary>The soft limit in force, or null when it cannot be read.</summary>
    public static ulong? Current()
        => Interop.Libc.GetRLimit(Interop.Libc.RLIMIT_NOFILE, out Interop.Libc.RLimit limit) == 0 ? limit.Current : null;

    public static ulong? RaiseToHardLimit()
    {
        if (Interop.Libc.GetRLimit(Interop.Libc.RLIMIT_NOFILE, out Interop.Libc.RLimit limit) != 0)
        {
            return null;
        }

        if (limit.Current < limit.Maximum)
        {
            var raised = new Interop.Libc.RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
            if (Interop.Libc.SetRLimit(Interop.Libc.RLIMIT_NOFILE, raised) == 0)
            {
                return raised.Current;
            }
        }

        return limit.Current;
    }
}
