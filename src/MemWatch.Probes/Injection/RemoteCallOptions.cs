using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Injection;

/// <summary>How <see cref="RemoteProcess.Open"/> picks and guards the thread that runs remote calls.</summary>
public sealed record RemoteCallOptions
{
    /// <summary>
    /// Code ranges [Start, End) no frame of the thread's unwound stack may lie in when a call starts, in addition to the
    /// critical regions <see cref="SafePoints.CriticalRegions"/> finds in the target's modules (e.g. an introspector's
    /// own unsafe code, or a test's blocking function).
    /// </summary>
    public IReadOnlyList<(ulong Start, ulong End)> ForbiddenRanges { get; init; } = [];

    /// <summary>
    /// Functions (addresses in the target) that hold at most one lock at a time and block only while acquiring it
    /// (glibc's mallinfo2 and malloc_trim): a call to one that outlives its timeout can be rolled back when the unwound
    /// stack shows it waiting for a lock directly (<see cref="SafePoints.SafePointRule.CheckRollback"/>). Any other callee
    /// that times out is left to finish, and the failure says so.
    /// </summary>
    public IReadOnlyList<ulong> LockStepCallees { get; init; } = [];

    /// <summary>
    /// The start time (field 22 of /proc/PID/stat, clock ticks after boot) of the process the caller means. When set,
    /// every call checks it after seizing a thread, when the PID can no longer change hands, and refuses a process that
    /// started at another time (the PID was reused) as <see cref="RemoteCallFailure.ProcessExited"/>.
    /// </summary>
    public ulong? ExpectedStartTimeTicks { get; init; }

    /// <summary>
    /// False makes the identity check at each stop use the held /proc/PID/stat, as where pidfd_open is refused (so tests
    /// prove that path too); true takes a pidfd when the kernel gives one.
    /// </summary>
    internal bool UsePidFd { get; init; } = true;

    /// <summary>How many times a thread is stopped and checked before the call is refused as NotSafe.</summary>
    public int MaxSafetyAttempts { get; init; } = 8;

    /// <summary>First wait before retrying after an unsafe stop; doubled on every retry.</summary>
    public TimeSpan InitialRetryDelay { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Use only this thread (a TID of the target) instead of picking one.</summary>
    public int? ThreadId { get; init; }

    /// <summary>How long a thread may take to reach a ptrace stop after PTRACE_INTERRUPT.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Stack the callee may need below the call frame; a thread with less room left is not used.</summary>
    public int MinimumStackHeadroomBytes { get; init; } = 64 * 1024;

    /// <summary>Largest scratch block accepted by <see cref="IRemoteCallSession.Call"/>.</summary>
    public int MaxScratchBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// The target's symbols when the caller has them already (read after the start time was fixed); otherwise the session
    /// reads them to build its <see cref="SafePoints.SafePointRule"/>.
    /// </summary>
    internal TargetSymbols? Symbols { get; init; }

    /// <summary>
    /// A further safe point the stopped thread must satisfy after <see cref="SafePoints.SafePointRule"/> (V8's calls:
    /// the isolate's thread idle in libuv's event loop, <see cref="SafePoints.EventLoopIdleRule"/>); null for none.
    /// </summary>
    internal SafePoints.EventLoopIdleRule? IdleLoop { get; init; }

    /// <summary>The proc filesystem the target is seen through.</summary>
    public ProcFileSystem ProcFileSystem { get; init; } = ProcFileSystem.Default;
}
