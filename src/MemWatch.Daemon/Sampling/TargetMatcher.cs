using System.Text.RegularExpressions;
using MemWatch.Daemon.Configuration;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.Discovery;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// Decides which rule, if any, selects a process, reading its status once and its command line and cgroup only when
/// a rule asks. When several rules match, the governing one is the first that allows actions, else the first that
/// introspects, else the first: a catch-all rule never takes away what a narrower rule grants.
/// </summary>
/// <remarks>Not thread safe: the sampler's own instance.</remarks>
internal sealed class TargetMatcher
{
    private readonly ProcFileSystem _fs;
    private readonly IReadOnlyList<TargetRule> _rules;
    private readonly FileBuffer _buffer = new(4096);
    private readonly CgroupResolver _cgroups;

    /// <param name="cgroups">Places cgroup paths on the host's tree (see <see cref="CgroupResolver.PlacePath"/>); null for this process's view.</param>
    public TargetMatcher(ProcFileSystem fs, IReadOnlyList<TargetRule> rules, CgroupResolver? cgroups = null)
    {
        _fs = fs;
        _rules = rules;
        _cgroups = cgroups ?? new CgroupResolver(fs);
    }

    /// <summary>The governing rule for <paramref name="pid"/>, or null; <paramref name="cgroupPath"/> when it was read.</summary>
    /// <exception cref="UnauthorizedAccessException">The command line or cgroup may not be read.</exception>
    public TargetRule? Match(int pid, ProcStatus status, ref string? cgroupPath)
    {
        if (status.VmRssBytes is not { } rss)
        {
            return null;
        }

        TargetRule? best = null;
        string? cmdline = null;
        bool cgroupRead = false;
        foreach (TargetRule rule in _rules)
        {
            if (best is not null && Rank(rule) <= Rank(best))
            {
                continue;
            }

            ProcessSelector s = rule.Selector;
            if (rss < s.MinRssBytes
                || (s.Pids is { } pids && !pids.Contains(pid))
                || (s.Uid is { } uid && status.RealUid != uid)
                || (s.Comm is { } comm && !SafeMatch(comm, status.Name)))
            {
                continue;
            }

            if (s.CommandLine is { } pattern)
            {
                cmdline ??= ProcCmdline.TryRead(_fs, pid, _buffer, out ProcCmdline? c) ? c.DisplayText : "";
                if (!SafeMatch(pattern, cmdline))
                {
                    continue;
                }
            }

            if (s.NeedsCgroup)
            {
                if (!cgroupRead)
                {
                    cgroupRead = true;
                    cgroupPath = ReadCgroupPath(pid);
                }

                if (cgroupPath is null
                    || (s.CgroupPrefix is { } prefix && !ProcessSelector.IsUnderCgroup(cgroupPath, prefix))
                    || (s.Unit is { } unit && !ProcessSelector.IsInUnit(cgroupPath, unit)))
                {
                    continue;
                }
            }

            best = rule;
        }

        return best;
    }

    /// <summary>The memory (v1) or unified (v2) cgroup path of a process, placed on the host's tree when it can be; or null.</summary>
    public string? ReadCgroupPath(int pid)
    {
        try
        {
            return ProcCgroup.TryRead(_fs, pid, _buffer, out ProcCgroup? cgroups)
                ? _cgroups.PlacePath(cgroups, _buffer)
                : null;
        }
        catch (MemWatch.Probes.ProcParseException)
        {
            return null;
        }
    }

    private static int Rank(TargetRule rule) => (rule.AllowActions ? 2 : 0) + (rule.Introspect ? 1 : 0);

    private static bool SafeMatch(Regex regex, string input)
    {
        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
