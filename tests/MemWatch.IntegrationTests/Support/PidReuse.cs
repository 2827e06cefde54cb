namespace MemWatch.IntegrationTests.Support;

/// <summary>Gives a new process a PID that another one had.</summary>
public static class PidReuse
{
    /// <summary>
    /// Starts the workload as process <paramref name="pid"/> through tests/workloads/with_pid.c (clone3 with set_tid):
    /// the kernel gives that PID or refuses, so no other process of the machine can take it in between, as it could
    /// when ns_last_pid was set and the next fork hoped for. Null when the PID is in use.
    /// </summary>
    public static Workload? StartWithPid(int pid, string source, string arguments = "")
    {
        string launcher = Workload.Build("with_pid.c");
        string exe = Workload.Build(source);
        Workload w;
        try
        {
            w = Workload.StartExecutable(
                $"\"{launcher}\" {pid.ToString(System.Globalization.CultureInfo.InvariantCulture)} \"{exe}\"", arguments, label: source);
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
