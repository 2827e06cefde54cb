namespace MemWatch.Probes.Attribution;

/// <summary>One event to open on every thread of the target, on every CPU: its attr fields and how to read its samples.</summary>
/// <remarks>
/// Events without a stack copy (munmap, madvise, the mremap exit) write into a ring of their own on each CPU: the
/// samples that give memory back must not be lost when a burst of faults with 8 KiB stacks fills the other ring.
/// </remarks>
internal sealed record PerfEventSpec(PerfEventDescriptor Descriptor, uint Type, ulong Config, ulong Period, uint StackBytes, ulong ExtraFlags = 0)
{
    public int Ring => StackBytes > 0 ? 0 : 1;
}
