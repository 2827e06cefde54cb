namespace MemWatch.Daemon.Metrics;

/// <summary>Why a read of a target failed; the label of memwatch_sample_errors_total. A vanished PID is not an error.</summary>
internal enum SampleErrorReason
{
    PermissionDenied,
    Malformed,
    IoError,
    IntrospectionFailed,
    TargetLimit,
    Internal,
}
