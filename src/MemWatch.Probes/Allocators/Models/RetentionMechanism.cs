namespace MemWatch.Probes.Allocators.Models;

/// <summary>A retention mechanism of one allocator under its effective parameters, as data for the classifier and the report.</summary>
/// <param name="Kind">Which mechanism.</param>
/// <param name="Summary">How it keeps memory, with the parameter values that bound it.</param>
/// <param name="ExplainedBytes">Which quantity measures the bytes it holds.</param>
/// <param name="Observations">What shows it.</param>
/// <param name="Remedies">What returns the memory, most direct first.</param>
public sealed record RetentionMechanism(
    RetentionMechanismKind Kind,
    string Summary,
    string ExplainedBytes,
    IReadOnlyList<RetentionObservation> Observations,
    IReadOnlyList<RetentionRemedy> Remedies)
{
    /// <summary>The report name: <c>fastbin-tcache-hoard</c>, <c>top-chunk-pinned</c>, ...</summary>
    public string Name => NameOf(Kind);

    public static string NameOf(RetentionMechanismKind kind) => kind switch
    {
        RetentionMechanismKind.FastbinTcacheHoard => "fastbin-tcache-hoard",
        RetentionMechanismKind.TopChunkPinned => "top-chunk-pinned",
        RetentionMechanismKind.ArenaProliferation => "arena-proliferation",
        RetentionMechanismKind.MmapThresholdRaised => "mmap-threshold-raised",
        RetentionMechanismKind.ThreadCache => "thread-cache",
        RetentionMechanismKind.DirtyPages => "dirty-pages",
        RetentionMechanismKind.Fragmentation => "fragmentation",
        RetentionMechanismKind.PymallocArenaPinned => "pymalloc-arena-pinned",
        RetentionMechanismKind.GoHeapIdle => "go-heap-idle",
        RetentionMechanismKind.TransparentHugePages => "transparent-huge-pages",
        RetentionMechanismKind.ThreadLeak => "thread-leak",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
