using Microsoft.Win32.SafeHandles;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.Probes.Injection;

/// <summary>
/// The target process held as a pidfd for a session's life. A process that has not exited keeps its PID, so at a stop
/// "the thread's Tgid is the PID, and this pidfd's process has not exited" proves the thread belongs to the process the
/// session was opened on, without generating /proc/PID/stat. pidfd_open(2): the descriptor polls readable once the
/// process has exited (all its threads, zombie or reaped).
/// </summary>
internal sealed class TargetPidFd : IDisposable
{
    private readonly SafeFileHandle _handle;

    private TargetPidFd(SafeFileHandle handle)
    {
        _handle = handle;
    }

    /// <summary>Whether the process has exited; true also when the poll itself fails (the safe answer).</summary>
    public bool HasExited
    {
        get
        {
            Span<Libc.PollFd> fds = [new Libc.PollFd { Fd = (int)_handle.DangerousGetHandle(), Events = Libc.POLLIN }];
            return Libc.Poll(fds, 0) != 0;
        }
    }

    /// <summary>A pidfd for whichever process holds <paramref name="pid"/> now; null where pidfd_open is refused (Linux &lt; 5.3, a seccomp filter) or the PID is free.</summary>
    public static TargetPidFd? TryOpen(int pid)
    {
        int fd = Libc.PidFdOpen(pid);
        return fd < 0 ? null : new TargetPidFd(new SafeFileHandle(fd, ownsHandle: true));
    }

    public void Dispose() => _handle.Dispose();
}
