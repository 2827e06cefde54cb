using MemWatch.Probes.Injection;

namespace MemWatch.Daemon.Cli;

/// <summary>Process exit codes of the memwatch CLI; documented in --help and the README.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>An unexpected internal error (a bug), or an allocator that reported an error; the message says what.</summary>
    public const int Failure = 1;

    public const int BadUsage = 2;

    public const int NoSuchProcess = 3;

    /// <summary>/proc could not be read, or ptrace was refused (permissions, Yama, seccomp, non-dumpable).</summary>
    public const int PermissionDenied = 4;

    /// <summary>A remote call was refused to keep the target safe: traced by someone else, busy, no safe point, timeout.</summary>
    public const int RefusedUnsafe = 5;

    /// <summary>The target's allocator (or architecture) cannot be asked; the message says why.</summary>
    public const int NotSupported = 6;

    /// <summary>The exit code for a remote call that was refused or failed.</summary>
    public static int For(RemoteCallFailure reason) => reason switch
    {
        RemoteCallFailure.ProcessExited => NoSuchProcess,
        RemoteCallFailure.PermissionDenied => PermissionDenied,
        RemoteCallFailure.AlreadyTraced or RemoteCallFailure.Busy or RemoteCallFailure.NotSafe or RemoteCallFailure.Timeout => RefusedUnsafe,
        RemoteCallFailure.Unsupported => NotSupported,
        _ => Failure,
    };

    /// <summary><c>memwatch gc</c>: the target is not a .NET process (no diagnostic socket); the same code as any unsupported target.</summary>
    public const int NotDotNet = NotSupported;
}
