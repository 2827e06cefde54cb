using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;

namespace MemWatch.Probes.Snapshots;

/// <summary>
/// Reads <see cref="ProcessSnapshot"/>s, reusing its buffers across calls. Not thread safe: one per sampling thread.
/// </summary>
/// <remarks>
/// status, stat and (at full depth) smaps are essential: a process that exits while they are read yields false,
/// a permission denial on them throws <see cref="UnauthorizedAccessException"/>. cgroup, command line and OOM score
/// are optional: a failure there becomes a warning on the snapshot.
/// </remarks>
public sealed class ProcessSnapshotReader
{
    private readonly ProcFileSystem _fs;
    private readonly FileBuffer _buffer = new();
    private readonly CgroupMemoryReader? _cgroups;
    private readonly RegionClassifier _classifier;

    /// <param name="fs">The proc root.</param>
    /// <param name="cgroups">Reads memory cgroups; null to skip them.</param>
    /// <param name="hasSymbol">Optional ELF symbol lookup for statically linked allocators.</param>
    public ProcessSnapshotReader(ProcFileSystem fs, CgroupMemoryReader? cgroups, Func<string, string, bool>? hasSymbol = null)
    {
        _fs = fs;
        _cgroups = cgroups;
        _classifier = new RegionClassifier(hasSymbol);
    }

    public ProcFileSystem FileSystem => _fs;

    /// <summary>Captures one snapshot; false when the process does not exist or exited during the read.</summary>
    /// <exception cref="UnauthorizedAccessException">An essential file of the process may not be read.</exception>
    /// <exception cref="ProcParseException">An essential file is malformed.</exception>
    public bool TryCapture(int pid, SnapshotDepth depth, [NotNullWhen(true)] out ProcessSnapshot? snapshot)
    {
        snapshot = null;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        long ticks = Environment.TickCount64;
        if (!ProcStatus.TryRead(_fs, pid, _buffer, out ProcStatus? status)
            || !ProcStat.TryRead(_fs, pid, _buffer, out ProcStat? stat))
        {
            return false;
        }

        if (depth == SnapshotDepth.Counters)
        {
            snapshot = new ProcessSnapshot { Pid = pid, CapturedAt = now, TimestampMilliseconds = ticks, Status = status, Stat = stat };
            return true;
        }

        if (!_classifier.TryClassify(_fs, pid, out MemoryLayout? layout))
        {
            return false;
        }

        var warnings = new List<string>();
        CgroupMemory? cgroup = null;
        if (_cgroups is not null)
        {
            cgroup = Optional(warnings, "cgroup", () => ReadCgroup(pid, warnings));
        }

        ProcCmdline? cmdline = Optional(warnings, "cmdline", () => ProcCmdline.TryRead(_fs, pid, _buffer, out ProcCmdline? c) ? c : null);
        ProcOomScore? oom = Optional(warnings, "oom_score", () => ProcOomScore.TryRead(_fs, pid, _buffer, out ProcOomScore? o) ? o : null);

        snapshot = new ProcessSnapshot
        {
            Pid = pid,
            CapturedAt = now,
            TimestampMilliseconds = ticks,
            Status = status,
            Stat = stat,
            Layout = layout,
            Cgroup = cgroup,
            CommandLine = cmdline,
            OomScore = oom,
            Warnings = warnings,
        };
        return true;
    }

    /// <summary>The memory cgroup; a warning when the process has one that this process cannot see (its limit is unknown, not absent).</summary>
    private CgroupMemory? ReadCgroup(int pid, List<string> warnings)
    {
        if (!_cgroups!.Resolver.TryResolveMemory(pid, _buffer, out CgroupLocation? location))
        {
            return null;
        }

        if (location is null)
        {
            warnings.Add("cgroup: the memory cgroup is not visible from here (no memory controller mounted, or, inside a container, the host's /sys/fs/cgroup is not): its limit is unknown");
            return null;
        }

        return CgroupMemory.TryRead(location, _buffer, out CgroupMemory? m) ? m : null;
    }

    private static T? Optional<T>(List<string> warnings, string what, Func<T?> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (UnauthorizedAccessException)
        {
            warnings.Add($"{what}: permission denied");
        }
        catch (ProcParseException e)
        {
            warnings.Add($"{what}: {e.Message}");
        }
        catch (IOException e)
        {
            // EIO and friends from a cgroup being removed, or a /proc file of a dying process.
            warnings.Add($"{what}: {e.Message}");
        }

        return null;
    }
}
