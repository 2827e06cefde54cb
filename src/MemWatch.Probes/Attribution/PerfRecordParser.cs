using System.Buffers.Binary;
using System.Numerics;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// Decodes perf ring-buffer records (include/uapi/linux/perf_event.h): PERF_RECORD_SAMPLE in sample_type bit order
/// (IDENTIFIER, TID, TIME, ADDR, PERIOD, RAW, REGS_USER, STACK_USER) and PERF_RECORD_LOST. Pure: the bytes of one
/// record in, a sample out; every length is checked against the record, so a short or garbled record is rejected.
/// </summary>
public static class PerfRecordParser
{
    // x86 perf register numbers (arch/x86/include/uapi/asm/perf_regs.h) -> DWARF numbers, for the mask we request:
    // AX BX CX DX SI DI BP SP IP and R8-R15.
    public const ulong X64RegsMask = 0x1ffUL | (0xffUL << 16);

    private static readonly int[] s_perfToDwarf = BuildPerfToDwarf();

    public enum RecordResult
    {
        Sample,
        Lost,
        Other,
        Malformed,
    }

    /// <summary>The sample's identifier (PERF_SAMPLE_IDENTIFIER is the first u64 of every sample we request).</summary>
    public static bool TryReadIdentifier(ReadOnlySpan<byte> record, out ulong id)
    {
        id = 0;
        if (record.Length < 16 || BinaryPrimitives.ReadUInt32LittleEndian(record) != Interop.PerfEvent.PERF_RECORD_SAMPLE)
        {
            return false;
        }

        id = BinaryPrimitives.ReadUInt64LittleEndian(record[8..]);
        return true;
    }

    /// <summary>The count of a PERF_RECORD_LOST record.</summary>
    public static bool TryReadLost(ReadOnlySpan<byte> record, out ulong lost)
    {
        lost = 0;
        if (record.Length < 24 || BinaryPrimitives.ReadUInt32LittleEndian(record) != Interop.PerfEvent.PERF_RECORD_LOST)
        {
            return false;
        }

        lost = BinaryPrimitives.ReadUInt64LittleEndian(record[16..]);
        return true;
    }

    /// <summary>Decodes a sample of <paramref name="descriptor"/> into <paramref name="sample"/> (whose stack buffer is reused).</summary>
    public static bool TryParseSample(ReadOnlySpan<byte> record, PerfEventDescriptor descriptor, PerfSample sample)
    {
        ulong type = descriptor.SampleType;
        int pos = 8;
        if (!Skip(record, ref pos, 8))
        {
            return false;
        }

        sample.Kind = descriptor.Kind;
        sample.HasRegisters = false;
        sample.StackLength = 0;
        sample.Period = 1;
        if ((type & Interop.PerfEvent.PERF_SAMPLE_TID) != 0)
        {
            if (!U32(record, ref pos, out uint pid) || !U32(record, ref pos, out uint tid))
            {
                return false;
            }

            sample.Pid = (int)pid;
            sample.Tid = (int)tid;
        }

        sample.Time = 0;
        if ((type & Interop.PerfEvent.PERF_SAMPLE_TIME) != 0)
        {
            if (!U64(record, ref pos, out ulong time))
            {
                return false;
            }

            sample.Time = time;
        }

        if ((type & Interop.PerfEvent.PERF_SAMPLE_ADDR) != 0)
        {
            if (!U64(record, ref pos, out ulong addr))
            {
                return false;
            }

            sample.Address = addr;
        }

        if ((type & Interop.PerfEvent.PERF_SAMPLE_PERIOD) != 0)
        {
            if (!U64(record, ref pos, out ulong period))
            {
                return false;
            }

            sample.Period = Math.Max(1, period);
        }

        if ((type & Interop.PerfEvent.PERF_SAMPLE_RAW) != 0)
        {
            if (!U32(record, ref pos, out uint rawSize) || (ulong)pos + rawSize > (ulong)record.Length)
            {
                return false;
            }

            ReadOnlySpan<byte> raw = record.Slice(pos, (int)rawSize);
            sample.Arg0 = Field(raw, descriptor.Arg0Offset);
            sample.Arg1 = Field(raw, descriptor.Arg1Offset);
            sample.Arg2 = Field(raw, descriptor.Arg2Offset);
            pos += (int)rawSize;
        }

        if ((type & Interop.PerfEvent.PERF_SAMPLE_REGS_USER) != 0)
        {
            if (!U64(record, ref pos, out ulong abi))
            {
                return false;
            }

            if (abi != 0)
            {
                var regs = default(UnwindRegisters);
                ulong mask = descriptor.RegsMask;
                for (int bit = 0; bit < 64; bit++)
                {
                    if ((mask & (1UL << bit)) == 0)
                    {
                        continue;
                    }

                    if (!U64(record, ref pos, out ulong value))
                    {
                        return false;
                    }

                    if (bit < s_perfToDwarf.Length && s_perfToDwarf[bit] >= 0)
                    {
                        regs.Set(s_perfToDwarf[bit], value);
                    }
                }

                sample.Registers = regs;
                sample.HasRegisters = true;
            }
        }

        if ((type & Interop.PerfEvent.PERF_SAMPLE_STACK_USER) != 0)
        {
            if (!U64(record, ref pos, out ulong size) || (ulong)pos + size > (ulong)record.Length)
            {
                return false;
            }

            ReadOnlySpan<byte> stack = record.Slice(pos, (int)size);
            pos += (int)size;
            ulong dynSize = 0;
            if (size != 0 && !U64(record, ref pos, out dynSize))
            {
                return false;
            }

            int valid = (int)Math.Min(dynSize, size);
            if (sample.Stack.Length < valid)
            {
                sample.Stack = new byte[BitOperations.RoundUpToPowerOf2((uint)valid)];
            }

            stack[..valid].CopyTo(sample.Stack);
            sample.StackLength = valid;
        }

        return true;
    }

    private static ulong Field(ReadOnlySpan<byte> raw, int offset)
        => offset >= 0 && offset + 8 <= raw.Length ? BinaryPrimitives.ReadUInt64LittleEndian(raw[offset..]) : 0;

    private static bool Skip(ReadOnlySpan<byte> record, ref int pos, int bytes)
    {
        if (pos + bytes > record.Length)
        {
            return false;
        }

        pos += bytes;
        return true;
    }

    private static bool U32(ReadOnlySpan<byte> record, ref int pos, out uint value)
    {
        value = 0;
        if (pos + 4 > record.Length)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt32LittleEndian(record[pos..]);
        pos += 4;
        return true;
    }

    private static bool U64(ReadOnlySpan<byte> record, ref int pos, out ulong value)
    {
        value = 0;
        if (pos + 8 > record.Length)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt64LittleEndian(record[pos..]);
        pos += 8;
        return true;
    }

    private static int[] BuildPerfToDwarf()
    {
        // perf: AX0 BX1 CX2 DX3 SI4 DI5 BP6 SP7 IP8 ... R8=16..R15=23; DWARF: rax0 rdx1 rcx2 rbx3 rsi4 rdi5 rbp6 rsp7 r8-r15 8-15 rip16.
        int[] map = new int[24];
        Array.Fill(map, -1);
        map[0] = 0;
        map[1] = 3;
        map[2] = 2;
        map[3] = 1;
        map[4] = 4;
        map[5] = 5;
        map[6] = 6;
        map[7] = 7;
        map[8] = 16;
        for (int r = 0; r < 8; r++)
        {
            map[16 + r] = 8 + r;
        }

        return map;
    }
}
