namespace MemWatch.Daemon.Sampling;

/// <summary>What the target's allocator said at the last introspection; figures null where it does not say.</summary>
internal sealed record AllocatorReading(
    long UnixMilliseconds, string Allocator, ulong? InUseBytes, ulong? FreeBytes, ulong? ReleasableBytes, long PauseMicrosecondsMax);
