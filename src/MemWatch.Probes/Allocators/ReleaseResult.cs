namespace MemWatch.Probes.Allocators;

/// <summary>The result of asking an allocator to return free memory to the system, with what the call cost the target thread.</summary>
public sealed record ReleaseResult(
    string Allocator,
    ReleaseOutcome Outcome,
    string Message,
    ulong? ReturnValue,
    long PauseMicroseconds,
    long CalleeMicroseconds);
