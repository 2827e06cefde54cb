namespace MemWatch.Probes.Injection;

/// <summary>Why a remote call was refused or failed.</summary>
public enum RemoteCallFailure
{
    /// <summary>ptrace was refused: permissions, Yama ptrace_scope, seccomp, or a non-dumpable target.</summary>
    PermissionDenied,

    /// <summary>Another tracer (a debugger, strace) already traces the target.</summary>
    AlreadyTraced,

    /// <summary>The target or the thread exited.</summary>
    ProcessExited,

    /// <summary>No thread could be found at a safe point (e.g. every try caught it inside the allocator).</summary>
    NotSafe,

    /// <summary>The callee did not return within the timeout.</summary>
    Timeout,

    /// <summary>The callee faulted or the target was signalled fatally during the call.</summary>
    CalleeFault,

    /// <summary>The architecture or the target's layout is not supported.</summary>
    Unsupported,

    /// <summary>Another injection into the same target is in progress.</summary>
    Busy,
}
