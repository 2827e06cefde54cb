using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// One PERF_RECORD_SAMPLE of an attribution capture, decoded. <see cref="Arg0"/>..<see cref="Arg2"/> are the
/// tracepoint fields the descriptor names (addr/len/ret ...); <see cref="Stack"/> is the copied user stack, which
/// starts at the sampled rsp (its first <see cref="StackLength"/> bytes are valid).
/// </summary>
public sealed class PerfSample
{
    public MemoryEventKind Kind { get; set; }

    public int Pid { get; set; }

    public int Tid { get; set; }

    public ulong Time { get; set; }

    public ulong Address { get; set; }

    public ulong Period { get; set; } = 1;

    public ulong Arg0 { get; set; }

    public ulong Arg1 { get; set; }

    public ulong Arg2 { get; set; }

    public bool HasRegisters { get; set; }

    public UnwindRegisters Registers;

    public byte[] Stack { get; set; } = [];

    public int StackLength { get; set; }
}
