namespace MemWatch.Probes.Allocators.Models;

/// <summary>A setting in the environment that the allocator ignores or reads differently from how it is written.</summary>
/// <param name="Variable">The environment variable, e.g. <c>GLIBC_TUNABLES</c>.</param>
/// <param name="Text">The offending entry as written.</param>
/// <param name="Reason">What the allocator does with it and why.</param>
public sealed record EnvironmentIssue(string Variable, string Text, string Reason);
