using MemWatch.Probes.Runtimes;

namespace MemWatch.Daemon.Sampling;

/// <summary>A runtime's heap figures as read at one full smaps pass (Unix milliseconds), for the window's two ends.</summary>
internal sealed record RuntimeSample(long UnixMilliseconds, RuntimeReading Reading);
