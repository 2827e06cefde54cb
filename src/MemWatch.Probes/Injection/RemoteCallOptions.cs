using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Injection;

/// <summary>How <see cref="RemoteProcess.Open"/> picks and guards the thread that runs remote calls.</summary>
public sealed record RemoteCallOptions
{
    /// <summary>
    /// Code ranges [Start, End) the thread must not be inside when a call starts (e.g. the allocator's
    /// functions): checked against its instruction pointer and every word near the top of its stack.
    /// </summary>
    public IReadOnlyList<(ulong Start, ulong End)> ForbiddenRanges { get; init; } = [];

    /// <summary>How many bytes above the stack pointer are scanned for return addresses into a forbidden range.</summary>
    public int StackScanBytes { get; init; } = 8 * 1024;

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

    /// <summary>The proc filesystem the target is seen through.</summary>
    public ProcFileSystem ProcFileSystem { get; init; } = ProcFileSystem.Default;
}
