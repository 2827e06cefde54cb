namespace MemWatch.Daemon.Metrics;

internal enum RemediationAction
{
    Trim,
    Gc,
}
