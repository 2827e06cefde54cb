namespace MemWatch.Probes.SafePoints;

/// <summary>Where glibc's <c>struct pthread</c> keeps <c>stackblock</c>; <c>stackblock_size</c> and <c>guardsize</c> follow it (nptl/descr.h).</summary>
public readonly record struct PthreadStackFields(int StackBlockOffset)
{
    public int StackBlockSizeOffset => StackBlockOffset + 8;

    public int GuardSizeOffset => StackBlockOffset + 16;
}
