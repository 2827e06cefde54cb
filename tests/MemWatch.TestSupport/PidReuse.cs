using System.Globalization;

namespace MemWatch.TestSupport;

/// <summary>Gives a new process a PID that another one had.</summary>
public static class PidReuse
{
    /// <summary>The start time of process <paramref name="pid"/> in clock ticks since boot (/proc/PID/stat field 22).</summary>
    public static ulong StartTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return ulong.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Starts the workload as process <paramref name="pid"/> through tests/workloads/with_pid.c (clone3 with set_tid):
    /// the kernel gives that PID or refuses, so no other process of the machine can take it in between, as it could
    /// when ns_last_pid was set and the next fork hoped for. Null when the PID is in use.
    /// </summary>
    /// <param name="replacedStartTicks">
    /// The start time of the process that had the PID (<see cref="StartTicks"/>). A process is told from another with its
    /// PID by its start time, kept in clock ticks (USER_HZ, 100 a second): one started within its predecessor's tick is
    /// indistinguishable from it, so the newcomer starts in a later tick.
    /// </param>
    public static Workload? StartWithPid(int pid, ulong replacedStartTicks, string source, string arguments = "")
    {
        // /proc/uptime counts the same boot-time clock in hundredths of a second, the unit of USER_HZ.
        while ((ulong)(decimal.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture) * 100) <= replacedStartTicks)
        {
            Thread.Sleep(5);
        }

        string launcher = Workload.Build("with_pid.c");
        string exe = Workload.Build(source);
        Workload w;
        try
        {
            w = Workload.StartExecutable(
                $"\"{launcher}\" {pid.ToString(CultureInfo.InvariantCulture)} \"{exe}\"", arguments, label: source);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("'ERR clone3", StringComparison.Ordinal))
        {
            return null;
        }

        // The shell started the launcher; the workload is the launcher's child, and the process meant from now on.
        w.Rebind(pid);
        return w;
    }
}
