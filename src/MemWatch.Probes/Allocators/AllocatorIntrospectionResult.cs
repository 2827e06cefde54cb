namespace MemWatch.Probes.Allocators;

/// <summary>
/// The outcome of asking a target's allocator for its statistics: either <see cref="Statistics"/>, or a
/// <see cref="Failure"/> name ("not-safe", "permission-denied", "allocator-not-supported", ...) and an
/// <see cref="Error"/> that says why in words. Nothing is ever guessed in place of a refused reading.
/// </summary>
public sealed record AllocatorIntrospectionResult(AllocatorStatistics? Statistics, string? Failure, string? Error)
{
    public bool Succeeded => Statistics is not null;
}
