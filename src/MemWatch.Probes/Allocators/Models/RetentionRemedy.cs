namespace MemWatch.Probes.Allocators.Models;

/// <summary>A way to get retained memory back, and what to expect from it.</summary>
/// <param name="Action">What to do, e.g. <c>MALLOC_ARENA_MAX=2</c> or <c>malloc_trim(0)</c>.</param>
/// <param name="ExpectedEffect">What it returns, with figures from the effective parameters where they apply.</param>
/// <param name="Live">True when it acts on the running process (a remote call); false when it needs a restart.</param>
public sealed record RetentionRemedy(string Action, string ExpectedEffect, bool Live);
