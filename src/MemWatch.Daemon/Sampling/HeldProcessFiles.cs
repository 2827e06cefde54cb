using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// A watched process's status and stat, held open between ticks (<see cref="ProcFile"/>): a pread each instead of
/// three system calls and a path walk, and no chance of reading another process that took the PID.
/// </summary>
internal sealed class HeldProcessFiles : IDisposable
{
    private readonly ProcFile _status;
    private readonly ProcFile _stat;

    private HeldProcessFiles(ProcFile status, ProcFile stat)
    {
        _status = status;
        _stat = stat;
    }

    /// <summary>Null when the process is gone or no descriptors are to be had.</summary>
    public static HeldProcessFiles? TryOpen(ProcFileSystem fs, int pid)
    {
        ProcFile? status = ProcFile.TryOpen(fs, pid, "status");
        if (status is null)
        {
            return null;
        }

        ProcFile? stat = ProcFile.TryOpen(fs, pid, "stat");
        if (stat is null)
        {
            status.Dispose();
            return null;
        }

        return new HeldProcessFiles(status, stat);
    }

    /// <summary>False when the process the files were opened for has exited.</summary>
    /// <exception cref="MemWatch.Probes.ProcParseException">The file is malformed.</exception>
    public bool TryReadStat(FileBuffer buffer, [NotNullWhen(true)] out ProcStat? stat)
    {
        stat = buffer.TryReload(_stat) ? ProcStat.Parse(buffer.Span, _stat.Path) : null;
        return stat is not null;
    }

    /// <inheritdoc cref="TryReadStat"/>
    public bool TryReadStatus(FileBuffer buffer, [NotNullWhen(true)] out ProcStatus? status)
    {
        status = buffer.TryReload(_status) ? ProcStatus.Parse(buffer.Span, _status.Path) : null;
        return status is not null;
    }

    public void Dispose()
    {
        _status.Dispose();
        _stat.Dispose();
    }
}
