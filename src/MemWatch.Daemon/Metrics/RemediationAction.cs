namespace MemWatch.Daemon.Metrics;

public enum RemediationAction
{
    Trim,
    Gc,
}
