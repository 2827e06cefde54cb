using MemWatch.Daemon.Logging;
using MemWatch.Daemon.Metrics;
using MemWatch.Probes;
using MemWatch.Probes.ProcFs;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// The sampler's failed reads, counted by reason (memwatch_sample_errors_total) unless the process simply exited
/// between two reads. On the sampler thread only.
/// </summary>
internal sealed class ReadFailures
{
    private readonly ProcFileSystem _fs;
    private readonly FileBuffer _buffer;
    private readonly DaemonHealth _health;
    private readonly ILogger _log;

    public ReadFailures(ProcFileSystem fs, FileBuffer buffer, DaemonHealth health, ILogger log)
    {
        _fs = fs;
        _buffer = buffer;
        _health = health;
        _log = log;
    }

    /// <summary>The failures a read of /proc may meet: permission, a malformed file, an I/O error (the process exited).</summary>
    public static bool IsReadFailure(Exception e) =>
        e is UnauthorizedAccessException or ProcParseException or IOException;

    public void Count(Exception e, int pid)
    {
        if (HasExited(pid))
        {
            return;
        }

        SampleErrorReason reason = e switch
        {
            UnauthorizedAccessException => SampleErrorReason.PermissionDenied,
            ProcParseException => SampleErrorReason.Malformed,
            _ => SampleErrorReason.IoError,
        };
        _health.CountError(reason);
        _log.ReadFailed(pid, reason.ToString(), e.Message);
    }

    /// <summary>A process that exits between two reads is not an error: its files vanish, and a zombie's smaps read empty.</summary>
    private bool HasExited(int pid)
    {
        try
        {
            return !ProcStat.TryRead(_fs, pid, _buffer, out ProcStat? stat) || (stat.State is 'Z' or 'X' && stat.ThreadCount <= 1);
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            return false;
        }
    }
}
