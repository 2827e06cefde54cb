using System.Buffers.Binary;
using MemWatch.Probes.Attribution;

namespace MemWatch.Probes.Tests.Attribution;

/// <summary>Records laid out as include/uapi/linux/perf_event.h describes them (built here byte by byte).</summary>
public sealed class PerfRecordParserTests
{
    private const ulong FaultType = Interop.PerfEvent.PERF_SAMPLE_IDENTIFIER | Interop.PerfEvent.PERF_SAMPLE_TID | Interop.PerfEvent.PERF_SAMPLE_TIME
        | Interop.PerfEvent.PERF_SAMPLE_ADDR | Interop.PerfEvent.PERF_SAMPLE_PERIOD | Interop.PerfEvent.PERF_SAMPLE_REGS_USER | Interop.PerfEvent.PERF_SAMPLE_STACK_USER;

    private static readonly PerfEventDescriptor s_fault = new(MemoryEventKind.PageFault, FaultType, PerfRecordParser.X64RegsMask);

    [Fact]
    public void TryParseSample_FaultWithRegistersAndStack_DecodesEveryField()
    {
        byte[] stack = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        byte[] record = FaultRecord(id: 77, pid: 10, tid: 11, time: 123, addr: 0xdead000, period: 3, stack, dynSize: 12);
        Assert.True(PerfRecordParser.TryReadIdentifier(record, out ulong id));
        Assert.Equal(77UL, id);
        var s = new PerfSample();
        Assert.True(PerfRecordParser.TryParseSample(record, s_fault, s));
        Assert.Equal((10, 11, 123UL, 0xdead000UL, 3UL), (s.Pid, s.Tid, s.Time, s.Address, s.Period));
        Assert.True(s.HasRegisters);

        // perf order AX BX CX DX SI DI BP SP IP R8..R15 carried values 100..116; DWARF order differs.
        Assert.True(s.Registers.TryGet(0, out ulong rax));
        Assert.Equal(100UL, rax);
        Assert.True(s.Registers.TryGet(3, out ulong rbx));
        Assert.Equal(101UL, rbx);
        Assert.True(s.Registers.TryGet(1, out ulong rdx));
        Assert.Equal(103UL, rdx);
        Assert.Equal(107UL, s.Registers.Sp);
        Assert.Equal(108UL, s.Registers.Ip);
        Assert.True(s.Registers.TryGet(15, out ulong r15));
        Assert.Equal(116UL, r15);
        Assert.Equal(12, s.StackLength);
        Assert.Equal(stack[..12], s.Stack[..12]);
    }

    [Fact]
    public void TryParseSample_TruncatedRecord_IsRejected()
    {
        byte[] record = FaultRecord(1, 1, 1, 1, 1, 1, new byte[64], 64);
        var s = new PerfSample();
        for (int cut = 8; cut < record.Length; cut += 8)
        {
            Assert.False(PerfRecordParser.TryParseSample(record.AsSpan(0, cut), s_fault, s), $"cut at {cut}");
        }
    }

    [Fact]
    public void TryParseSample_RawTracepointFields_AreReadAtTheirOffsets()
    {
        var descriptor = new PerfEventDescriptor(MemoryEventKind.MunmapEnter,
            Interop.PerfEvent.PERF_SAMPLE_IDENTIFIER | Interop.PerfEvent.PERF_SAMPLE_TID | Interop.PerfEvent.PERF_SAMPLE_RAW, 0, 16, 24);
        var body = new List<byte>();
        U64(body, 5);
        U32(body, 42);
        U32(body, 43);
        byte[] raw = new byte[36];
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(16), 0x7000_0000);
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(24), 0x2000);
        U32(body, (uint)raw.Length);
        body.AddRange(raw);
        var s = new PerfSample();
        Assert.True(PerfRecordParser.TryParseSample(Record(9, body), descriptor, s));
        Assert.Equal((0x7000_0000UL, 0x2000UL, 42), (s.Arg0, s.Arg1, s.Pid));
        Assert.False(s.HasRegisters);
    }

    [Fact]
    public void TryReadLost_LostRecord_GivesTheCount()
    {
        var body = new List<byte>();
        U64(body, 1);
        U64(body, 4242);
        Assert.True(PerfRecordParser.TryReadLost(Record(2, body), out ulong lost));
        Assert.Equal(4242UL, lost);
        Assert.False(PerfRecordParser.TryReadIdentifier(Record(2, body), out _));
    }

    private static byte[] FaultRecord(ulong id, uint pid, uint tid, ulong time, ulong addr, ulong period, byte[] stack, ulong dynSize)
    {
        var body = new List<byte>();
        U64(body, id);
        U32(body, pid);
        U32(body, tid);
        U64(body, time);
        U64(body, addr);
        U64(body, period);
        U64(body, 2); // PERF_SAMPLE_REGS_ABI_64
        for (ulong r = 0; r < 17; r++)
        {
            U64(body, 100 + r);
        }

        U64(body, (ulong)stack.Length);
        body.AddRange(stack);
        U64(body, dynSize);
        return Record(9, body);
    }

    private static byte[] Record(uint type, List<byte> body)
    {
        var r = new List<byte>();
        U32(r, type);
        r.AddRange(BitConverter.GetBytes((ushort)0));
        r.AddRange(BitConverter.GetBytes((ushort)(8 + body.Count)));
        r.AddRange(body);
        return [.. r];
    }

    private static void U64(List<byte> b, ulong v) => b.AddRange(BitConverter.GetBytes(v));

    private static void U32(List<byte> b, uint v) => b.AddRange(BitConverter.GetBytes(v));
}
