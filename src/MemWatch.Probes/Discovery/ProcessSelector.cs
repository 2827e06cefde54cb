using System.Text.RegularExpressions;

namespace MemWatch.Probes.Discovery;

/// <summary>
/// Which processes to watch. Every criterion that is set must match (AND); an empty selector matches every
/// user-space process. Kernel threads never match: they have no memory of their own.
/// </summary>
public sealed record ProcessSelector
{
    /// <summary>Exact process ids.</summary>
    public IReadOnlySet<int>? Pids { get; init; }

    /// <summary>Matched against the process name (comm, at most 15 bytes).</summary>
    public Regex? Comm { get; init; }

    /// <summary>Matched against the command line, arguments joined by spaces.</summary>
    public Regex? CommandLine { get; init; }

    /// <summary>
    /// A cgroup path prefix, matched on whole path segments against the process's memory cgroup (or its unified
    /// cgroup): <c>/kubepods/burstable/pod123</c> matches <c>/kubepods/burstable/pod123/abc</c>, not <c>/kubepods/burstable/pod1234</c>.
    /// </summary>
    public string? CgroupPrefix { get; init; }

    /// <summary>A systemd unit (e.g. <c>nginx.service</c>): matches when a segment of the cgroup path equals it.</summary>
    public string? Unit { get; init; }

    /// <summary>The real user id.</summary>
    public uint? Uid { get; init; }

    /// <summary>Minimum resident set size (VmRSS).</summary>
    public ulong MinRssBytes { get; init; }

    /// <summary>True when the selector needs the cgroup path of each candidate.</summary>
    public bool NeedsCgroup => CgroupPrefix is not null || Unit is not null;

    /// <summary>True when the selector needs the command line of each candidate.</summary>
    public bool NeedsCommandLine => CommandLine is not null;

    /// <summary>Whether <paramref name="cgroupPath"/> lies under <paramref name="prefix"/>, comparing whole segments.</summary>
    public static bool IsUnderCgroup(string cgroupPath, string prefix)
    {
        string p = prefix.Length > 1 ? prefix.TrimEnd('/') : prefix;
        if (p == "/")
        {
            return true;
        }

        return cgroupPath.StartsWith(p, StringComparison.Ordinal)
            && (cgroupPath.Length == p.Length || cgroupPath[p.Length] == '/');
    }

    /// <summary>Whether a segment of <paramref name="cgroupPath"/> is exactly <paramref name="unit"/>.</summary>
    public static bool IsInUnit(string cgroupPath, string unit)
    {
        foreach (Range r in cgroupPath.AsSpan().Split('/'))
        {
            if (cgroupPath.AsSpan()[r].SequenceEqual(unit))
            {
                return true;
            }
        }

        return false;
    }
}
