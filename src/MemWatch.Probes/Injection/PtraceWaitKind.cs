namespace MemWatch.Probes.Injection;

internal enum PtraceWaitKind
{
    Stopped,
    Exited,
    TimedOut,
}
