using System.Globalization;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// What an attribution capture needs from the kernel, checked before anything is opened so a refusal names what is
/// missing: CAP_PERFMON (or CAP_SYS_ADMIN, or root) for tracepoint samples with raw data and for another user's
/// process, whatever <c>/proc/sys/kernel/perf_event_paranoid</c> says; without it only paranoid -1 allows them.
/// </summary>
public static class PerfAccess
{
    private const int CapSysAdmin = 21;
    private const int CapPerfmon = 38;

    /// <summary>The current perf_event_paranoid, or null when unreadable (no perf events in this kernel).</summary>
    public static int? ReadParanoid()
    {
        try
        {
            return int.TryParse(File.ReadAllText(ProcFileSystem.Default.SystemPath("sys/kernel/perf_event_paranoid")).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when this process holds CAP_PERFMON or CAP_SYS_ADMIN in its effective set (its status's CapEff).</summary>
    public static bool HasPerfmon(ProcFileSystem self)
    {
        ulong caps = ProcStatus.TryRead(self, Environment.ProcessId, new FileBuffer(4096), out ProcStatus? status) ? status.CapEff ?? 0 : 0;
        return (caps & (1UL << CapPerfmon)) != 0 || (caps & (1UL << CapSysAdmin)) != 0;
    }

    /// <summary>Null when a capture may proceed; else the one-line refusal.</summary>
    public static string? CheckAllowed()
    {
        int? paranoid = ReadParanoid();
        if (paranoid is null)
        {
            return "attribution needs perf events: /proc/sys/kernel/perf_event_paranoid is missing (a kernel without CONFIG_PERF_EVENTS)";
        }

        if (HasPerfmon(ProcFileSystem.Default) || paranoid.Value <= -1)
        {
            return null;
        }

        return $"attribution needs CAP_PERFMON (or root): this process lacks it and kernel.perf_event_paranoid is {paranoid.Value} "
            + "(only -1 would allow sampling with raw tracepoint data without it); run as root, grant CAP_PERFMON "
            + "(the systemd drop-in deploy/systemd/memwatch.service.d/attribution.conf), or set perf_event_paranoid to -1";
    }

    internal static string DescribeOpenFailure(int errno, int pid, MemoryEventKind kind) => errno switch
    {
        1 or 13 => $"perf_event_open on process {pid} refused (errno {errno}): needs CAP_PERFMON (or root) and, for another user's process, "
            + $"the ptrace access check (CAP_SYS_PTRACE or the same uid; kernel.perf_event_paranoid is {ReadParanoid()?.ToString(CultureInfo.InvariantCulture) ?? "unknown"})",
        2 or 19 or 95 => $"perf_event_open of the {kind} event is not supported by this kernel (errno {errno})",
        24 => "perf_event_open: too many open files (one event per thread, CPU and event kind): raise RLIMIT_NOFILE",
        _ => $"perf_event_open of the {kind} event on process {pid} failed (errno {errno})",
    };
}
