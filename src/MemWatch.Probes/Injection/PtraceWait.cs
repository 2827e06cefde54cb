using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MemWatch.Probes.Injection;

/// <summary>What waitpid(tid, __WALL) reported for a tracee (ptrace(2) "Stopped states").</summary>
internal readonly record struct PtraceWait(PtraceWaitKind Kind, int Status)
{
    private const int SyscallStopSignal = Interop.Libc.SIGTRAP | 0x80;

    public int Signal => Interop.Libc.WStopSig(Status);

    public int Event => Interop.Libc.WPtraceEvent(Status);

    /// <summary>A syscall-entry or -exit stop (PTRACE_O_TRACESYSGOOD sets bit 7 of the signal).</summary>
    public bool IsSyscallStop => Kind == PtraceWaitKind.Stopped && Signal == SyscallStopSignal && Event == 0;

    /// <summary>PTRACE_EVENT_STOP: the stop PTRACE_INTERRUPT asked for, or a group-stop.</summary>
    public bool IsEventStop => Kind == PtraceWaitKind.Stopped && Event == Interop.Libc.PTRACE_EVENT_STOP;

    /// <summary>A signal-delivery-stop: <see cref="Signal"/> is about to be delivered.</summary>
    public bool IsSignalStop => Kind == PtraceWaitKind.Stopped && Event == 0 && Signal != SyscallStopSignal;

    /// <summary>
    /// Polls waitpid(WNOHANG) until the tracee changes state or <paramref name="deadline"/> (a Stopwatch timestamp)
    /// passes: first yielding, then sleeping 20 µs growing to 1 ms, so short calls are seen within microseconds.
    /// </summary>
    public static PtraceWait Next(int tid, long deadline)
    {
        int round = 0;
        long sleepUs = 20;
        while (true)
        {
            int r = Interop.Libc.WaitPid(tid, out int status, Interop.Libc.WNOHANG | Interop.Libc.__WALL);
            if (r == tid)
            {
                return Interop.Libc.WIfStopped(status)
                    ? new PtraceWait(PtraceWaitKind.Stopped, status)
                    : new PtraceWait(PtraceWaitKind.Exited, status);
            }

            if (r < 0 && Marshal.GetLastPInvokeError() != EIntr)
            {
                // ECHILD: the tracee is gone and was reaped (or was never ours).
                return new PtraceWait(PtraceWaitKind.Exited, 0);
            }

            if (Stopwatch.GetTimestamp() >= deadline)
            {
                return new PtraceWait(PtraceWaitKind.TimedOut, 0);
            }

            if (round++ < 20)
            {
                Thread.Yield();
            }
            else
            {
                if (TryRecoverStop(tid, out PtraceWait recovered))
                {
                    return recovered;
                }

                Interop.Libc.SleepMicroseconds(sleepUs);
                sleepUs = Math.Min(sleepUs * 2, 1000);
            }
        }
    }

    private const int EIntr = 4;
    private const int EInval = 22;

    /// <summary>
    /// Another waitpid in this process (.NET's SIGCHLD handling calls waitpid(pid, WNOHANG) for children it
    /// started) can consume the notification of a stop of a thread-group leader that is our child. A tracee
    /// that answers PTRACE_GETSIGINFO is in a ptrace stop: rebuild its wait status from the siginfo (a
    /// group-stop answers EINVAL). Safe because a stop is reported from the tracee's current state, not queued.
    /// </summary>
    private static bool TryRecoverStop(int tid, out PtraceWait wait)
    {
        wait = default;
        if (Interop.Libc.PtraceGetSigInfo(tid, out int signo, out int code, out _) >= 0)
        {
            int sig = signo;
            int ev = 0;
            if (signo == Interop.Libc.SIGTRAP && code == (Interop.Libc.SIGTRAP | 0x80))
            {
                sig = Interop.Libc.SIGTRAP | 0x80;
            }
            else if (signo == Interop.Libc.SIGTRAP && (code >> 8) != 0 && (code & 0xff) == Interop.Libc.SIGTRAP)
            {
                ev = code >> 8;
            }

            wait = new PtraceWait(PtraceWaitKind.Stopped, 0x7f | (sig << 8) | (ev << 16));
            return true;
        }

        if (Marshal.GetLastPInvokeError() == EInval && Interop.Libc.PtraceGetRegs(tid, out _) >= 0)
        {
            wait = new PtraceWait(PtraceWaitKind.Stopped, 0x7f | (Interop.Libc.SIGSTOP << 8) | (Interop.Libc.PTRACE_EVENT_STOP << 16));
            return true;
        }

        return false;
    }
}
