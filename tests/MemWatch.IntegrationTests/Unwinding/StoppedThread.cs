using System.Diagnostics;
using MemWatch.Probes;
using MemWatch.Probes.Injection;
using Libc = MemWatch.Probes.Interop.Libc;

namespace MemWatch.IntegrationTests.Unwinding;

/// <summary>One thread of a workload held in a ptrace stop (PTRACE_SEIZE + PTRACE_INTERRUPT) for as long as the test needs its registers; Dispose detaches it.</summary>
internal sealed class StoppedThread : IDisposable
{
    private StoppedThread(int tid, UserRegs regs)
    {
        Tid = tid;
        Registers = regs;
    }

    public int Tid { get; }

    public UserRegs Registers { get; }

    public static StoppedThread Stop(int tid)
    {
        if (Libc.Ptrace(Libc.PTRACE_SEIZE, tid, 0, 0) < 0)
        {
            throw new InvalidOperationException($"PTRACE_SEIZE {tid} failed");
        }

        Libc.Ptrace(Libc.PTRACE_INTERRUPT, tid, 0, 0);
        long deadline = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        while (true)
        {
            PtraceWait w = PtraceWait.Next(tid, deadline);
            if (w.Kind != PtraceWaitKind.Stopped)
            {
                Libc.Ptrace(Libc.PTRACE_DETACH, tid, 0, 0);
                throw new InvalidOperationException($"thread {tid} did not stop ({w.Kind})");
            }

            if (w.IsEventStop)
            {
                break;
            }

            Libc.Ptrace(Libc.PTRACE_CONT, tid, 0, w.IsSignalStop ? w.Signal : 0);
        }

        if (Libc.PtraceGetRegs(tid, out UserRegs regs) < 0)
        {
            Libc.Ptrace(Libc.PTRACE_DETACH, tid, 0, 0);
            throw new InvalidOperationException($"PTRACE_GETREGS {tid} failed");
        }

        return new StoppedThread(tid, regs);
    }

    public void Dispose() => Libc.Ptrace(Libc.PTRACE_DETACH, Tid, 0, 0);
}
