using System.Diagnostics.CodeAnalysis;

using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Discovery;

/// <summary>
/// Finds the processes a <see cref="ProcessSelector"/> names by walking the proc root. Reads status for each
/// candidate, and the command line and cgroup only when the selector asks for them.
/// </summary>
/// <remarks>
/// A process that exits while it is examined is skipped: that is a normal event. A process this daemon may not
/// read (hidepid, another user's process without CAP_SYS_PTRACE) is skipped and counted in <see cref="Denied"/>.
/// Not thread safe: one instance per sampling thread.
/// </remarks>
public sealed class ProcessDiscovery
{
    private readonly ProcFileSystem _fs;
    private readonly FileBuffer _buffer = new();

    public ProcessDiscovery(ProcFileSystem fs)
    {
        _fs = fs;
    }

    /// <summary>Processes skipped in the last <see cref="Discover"/> because reading them was denied.</summary>
    public int Denied { get; private set; }

    /// <summary>Processes that matched in the last <see cref="Discover"/>, ordered by PID.</summary>
    public List<DiscoveredProcess> Discover(ProcessSelector selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        Denied = 0;
        var found = new List<DiscoveredProcess>();
        IEnumerable<int> pids = selector.Pids is { } only
            ? only.Where(p => p > 0).Order()
            : ProcessEnumerator.EnumerateProcessIds(_fs);
        foreach (int pid in pids)
        {
            try
            {
                if (TryMatch(pid, selector, out DiscoveredProcess? process))
                {
                    found.Add(process);
                }
            }
            catch (UnauthorizedAccessException)
            {
                Denied++;
            }
        }

        if (selector.Pids is null)
        {
            found.Sort((a, b) => a.Pid.CompareTo(b.Pid));
        }

        return found;
    }

    /// <summary>Checks one process against the selector; false when it does not match or is gone.</summary>
    /// <exception cref="UnauthorizedAccessException">Reading the process was denied.</exception>
    public bool TryMatch(int pid, ProcessSelector selector, [NotNullWhen(true)] out DiscoveredProcess? process)
    {
        process = null;
        if (!ProcStatus.TryRead(_fs, pid, _buffer, out ProcStatus? status)
            || status.VmRssBytes is not { } rss)
        {
            // Gone, or a kernel thread (no mm, no VmRSS).
            return false;
        }

        if (rss < selector.MinRssBytes
            || (selector.Uid is { } uid && status.RealUid != uid)
            || (selector.Comm is { } comm && !comm.IsMatch(status.Name)))
        {
            return false;
        }

        if (selector.CommandLine is { } cmdlinePattern)
        {
            if (!ProcCmdline.TryRead(_fs, pid, _buffer, out ProcCmdline? cmdline) || !cmdlinePattern.IsMatch(cmdline.DisplayText))
            {
                return false;
            }
        }

        string? cgroupPath = null;
        if (selector.NeedsCgroup)
        {
            if (!ProcCgroup.TryRead(_fs, pid, _buffer, out ProcCgroup? cgroups))
            {
                return false;
            }

            cgroupPath = (cgroups.FindController("memory") ?? cgroups.Unified)?.Path;
            if (cgroupPath is null
                || (selector.CgroupPrefix is { } prefix && !ProcessSelector.IsUnderCgroup(cgroupPath, prefix))
                || (selector.Unit is { } unit && !ProcessSelector.IsInUnit(cgroupPath, unit)))
            {
                return false;
            }
        }

        process = new DiscoveredProcess(pid, status.Name, status.RealUid, rss, cgroupPath);
        return true;
    }
}
