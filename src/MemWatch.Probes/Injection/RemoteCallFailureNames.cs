namespace MemWatch.Probes.Injection;

/// <summary>Stable names of <see cref="RemoteCallFailure"/> values for JSON and metric labels.</summary>
public static class RemoteCallFailureNames
{
    public static string ToName(this RemoteCallFailure reason) => reason switch
    {
        RemoteCallFailure.PermissionDenied => "permission-denied",
        RemoteCallFailure.AlreadyTraced => "already-traced",
        RemoteCallFailure.ProcessExited => "process-exited",
        RemoteCallFailure.NotSafe => "not-safe",
        RemoteCallFailure.Timeout => "timeout",
        RemoteCallFailure.CalleeFault => "callee-fault",
        RemoteCallFailure.Unsupported => "unsupported",
        RemoteCallFailure.Busy => "busy",
        _ => "unknown",
    };
}
