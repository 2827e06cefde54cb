namespace MemWatch.Probes.Attribution;

/// <summary>
/// How to read the samples of one opened event: its kind, its perf_event_attr.sample_type and, for a tracepoint, the
/// offsets of the fields used in its raw record (-1 when absent).
/// </summary>
public sealed record PerfEventDescriptor(MemoryEventKind Kind, ulong SampleType, ulong RegsMask, int Arg0Offset = -1, int Arg1Offset = -1, int Arg2Offset = -1)
{
    public bool HasStack => (SampleType & Interop.PerfEvent.PERF_SAMPLE_STACK_USER) != 0;
}
