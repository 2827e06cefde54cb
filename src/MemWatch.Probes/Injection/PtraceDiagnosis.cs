using System.Globalization;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Injection;

/// <summary>Turns a refused PTRACE_SEIZE into a <see cref="RemoteCallException"/> that says which rule refused it (ptrace(2), Yama).</summary>
internal static class PtraceDiagnosis
{
    private const int CapSysPtrace = 19;

    public static RemoteCallException Refusal(ProcFileSystem fs, int pid, int tid, int errno)
    {
        var buffer = new FileBuffer(4096);
        ThreadStatus? target = null;
        try
        {
            ThreadStatus.TryRead(fs, pid, null, buffer, out target);
        }
        catch (Exception e) when (e is ProcParseException or UnauthorizedAccessException)
        {
            // Diagnosis only: fall through to the generic message.
        }

        // An exiting process refuses PTRACE_SEIZE with EPERM (its mm is gone): that is a process gone, not a policy.
        if (errno == Errno.ESRCH || (target is null && errno != Errno.EPERM) || TargetProcess.IsGone(fs, pid))
        {
            return new RemoteCallException(RemoteCallFailure.ProcessExited, $"process {pid} (thread {tid}) no longer exists");
        }

        if (target is { TracerPid: not 0 })
        {
            return AlreadyTraced(fs, pid, target.TracerPid);
        }

        var reasons = new List<string>();
        string? scope = ReadTrimmed(fs.SystemPath("sys/kernel/yama/ptrace_scope"));
        bool hasCap = HasCapSysPtrace();
        if (scope == "3")
        {
            reasons.Add("Yama ptrace_scope is 3: ptrace attach is disabled for everyone until reboot");
        }
        else if (scope is "1" or "2" && !hasCap)
        {
            reasons.Add($"Yama ptrace_scope is {scope} and MemWatch lacks CAP_SYS_PTRACE (scope 1 allows only descendants)");
        }

        ThreadStatus? own = null;
        try
        {
            ThreadStatus.TryRead(ProcFileSystem.Default, Environment.ProcessId, null, buffer, out own);
        }
        catch (Exception e) when (e is ProcParseException or UnauthorizedAccessException)
        {
            // Diagnosis only.
        }

        if (target is not null && own is not null && !hasCap)
        {
            reasons.Add(target.RealUid != own.RealUid
                ? $"the target runs as uid {target.RealUid}, MemWatch as uid {own.RealUid}, without CAP_SYS_PTRACE"
                : "MemWatch lacks CAP_SYS_PTRACE and the target may be non-dumpable (setuid, or prctl(PR_SET_DUMPABLE, 0))");
        }

        int? ownSeccomp = own?.SeccompMode;
        if (ownSeccomp is > 0)
        {
            reasons.Add($"MemWatch itself runs under seccomp mode {ownSeccomp}, whose filter may forbid ptrace");
        }

        if (reasons.Count == 0)
        {
            reasons.Add("no uid, capability, Yama or seccomp cause found: a security module (AppArmor, SELinux) or a container runtime probably refused it");
        }

        return new RemoteCallException(
            RemoteCallFailure.PermissionDenied,
            $"ptrace of process {pid} thread {tid} was refused (errno {errno}): {string.Join("; ", reasons)}");
    }

    public static RemoteCallException AlreadyTraced(ProcFileSystem fs, int pid, int tracerPid)
    {
        string? comm = ReadTrimmed(fs.ProcessPath(tracerPid, "comm"));
        return new RemoteCallException(
            RemoteCallFailure.AlreadyTraced,
            $"process {pid} is already traced by process {tracerPid}{(comm is null ? "" : $" ({comm})")}; a process has one tracer at a time");
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool HasCapSysPtrace() => HasCapability(CapSysPtrace);

    /// <summary>True when this process holds capability number <paramref name="cap"/> in its effective set (/proc/self/status CapEff).</summary>
    internal static bool HasCapability(int cap)
    {
        string? status = ReadTrimmed(ProcFileSystem.Default.SystemPath("self/status"));
        string? line = status?.Split('\n').FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong caps)
            && (caps & (1UL << cap)) != 0;
    }
}
