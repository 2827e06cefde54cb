using MemWatch.Probes;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Daemon.Remediation;

/// <summary>VmRSS of a process before and after an action; null when it is gone or unreadable (the action's result stands).</summary>
internal static class ResidentSize
{
    public static ulong? Read(ProcFileSystem fs, int pid)
    {
        try
        {
            return ProcStatus.TryRead(fs, pid, new FileBuffer(4096), out ProcStatus? s) ? s.VmRssBytes : null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or ProcParseException)
        {
            return null;
        }
    }
}
