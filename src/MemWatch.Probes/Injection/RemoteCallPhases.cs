namespace MemWatch.Probes.Injection;

/// <summary>
/// Where a remote call's pause went, phase by phase, in nanoseconds (Stopwatch timestamps; 0 for a phase the call did
/// not run). Their sum is the pause of <see cref="RemoteCallResult.PauseMicroseconds"/> up to rounding.
/// </summary>
/// <param name="Seize">PTRACE_SEIZE, PTRACE_INTERRUPT, the wait for the stop and the registers (with the stop's -EINTR undone).</param>
/// <param name="Identity">The thread's status read (Tgid, thread count, Seccomp); the thread still belongs to the process
/// the session was opened on (its pidfd, or the held stat's start time).</param>
/// <param name="SyscallAndSeccomp">The blocked-system-call check, the seccomp mode's check and filters.</param>
/// <param name="Stack">The thread's stack located (its struct pthread read).</param>
/// <param name="Unwind">The CFI unwind of the whole stack.</param>
/// <param name="LockWords">glibc's lock words read (libc6-dbg only).</param>
/// <param name="Regions">Each frame looked up in the critical regions; the verdict.</param>
/// <param name="Setup">XSAVE state and signal mask read, the call frame built and written, registers and mask set.</param>
/// <param name="Callee">The callee's own run, from the resume to its return's system-call stop.</param>
/// <param name="ReturnStop">The frame and result read back, rt_sigreturn let run, and the wait for its exit stop.</param>
/// <param name="Restore">Registers of the first stop put back (and XSAVE state and signal mask when the frame had changed).</param>
/// <param name="Detach">PTRACE_DETACH.</param>
public readonly record struct RemoteCallPhases(
    long Seize,
    long Identity,
    long SyscallAndSeccomp,
    long Stack,
    long Unwind,
    long LockWords,
    long Regions,
    long Setup,
    long Callee,
    long ReturnStop,
    long Restore,
    long Detach)
{
    /// <summary>The phase names in pause order, as the benchmark prints them.</summary>
    public static readonly string[] Names =
        ["seize", "identity", "syscall+seccomp", "stack", "unwind", "lock words", "regions", "setup", "callee", "return stop", "restore", "detach"];

    /// <summary>The durations in the order of <see cref="Names"/>.</summary>
    public long[] ToArray() => [Seize, Identity, SyscallAndSeccomp, Stack, Unwind, LockWords, Regions, Setup, Callee, ReturnStop, Restore, Detach];
}
