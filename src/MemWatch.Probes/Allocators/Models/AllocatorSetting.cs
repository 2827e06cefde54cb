namespace MemWatch.Probes.Allocators.Models;

/// <summary>One effective allocator setting and where it came from, for the report.</summary>
/// <param name="Name">The allocator's own name, e.g. <c>glibc.malloc.arena_max</c> or <c>opt.dirty_decay_ms</c>.</param>
/// <param name="Value">The effective value as the allocator holds it.</param>
/// <param name="Source">Default, or which variable set it.</param>
public sealed record AllocatorSetting(string Name, string Value, SettingSource Source);
