using System.Buffers.Binary;

namespace MemWatch.Probes.Injection;

/// <summary>
/// One seccomp filter: a classic BPF program (linux/filter.h, linux/bpf_common.h) run on struct seccomp_data
/// (linux/seccomp.h: nr @0, arch @4, instruction_pointer @8, args[6] @16). <see cref="Actions"/> evaluates it for a
/// system call number with the instruction pointer and the arguments unknown: every branch that depends on them is
/// followed both ways, so the answer holds for any arguments the callee may pass.
/// </summary>
internal sealed class SeccompProgram
{
    public const uint AuditArchX8664 = 0xC000003E;
    public const uint RetActionFull = 0xffff0000;
    public const uint RetAllow = 0x7fff0000;

    private const int SeccompDataBytes = 64;
    private const long Unknown = -1;
    private const int StepBudget = 200_000;

    private readonly (ushort Code, byte Jt, byte Jf, uint K)[] _insns;

    private SeccompProgram((ushort, byte, byte, uint)[] insns)
    {
        _insns = insns;
    }

    public int Length => _insns.Length;

    /// <summary>Parses sock_filter instructions (8 bytes each: code u16, jt u8, jf u8, k u32).</summary>
    public static SeccompProgram Parse(ReadOnlySpan<byte> bytes)
    {
        var insns = new (ushort, byte, byte, uint)[bytes.Length / 8];
        for (int i = 0; i < insns.Length; i++)
        {
            ReadOnlySpan<byte> b = bytes.Slice(i * 8, 8);
            insns[i] = (BinaryPrimitives.ReadUInt16LittleEndian(b), b[2], b[3], BinaryPrimitives.ReadUInt32LittleEndian(b[4..]));
        }

        return new SeccompProgram(insns);
    }

    /// <summary>
    /// Every action (the return value masked with SECCOMP_RET_ACTION_FULL, e.g. <see cref="RetAllow"/>) the program can
    /// return for system call <paramref name="nr"/> on x86_64, whatever its arguments; null when that cannot be worked out
    /// (an instruction outside what the kernel accepts for seccomp, a return of an unknown value, too many paths).
    /// </summary>
    public HashSet<uint>? Actions(int nr)
    {
        var actions = new HashSet<uint>();
        int budget = StepBudget;
        long[] mem = new long[16];
        Array.Fill(mem, Unknown);
        return Walk(0, Unknown, Unknown, mem, nr, actions, ref budget) ? actions : null;
    }

    private bool Walk(int pc, long a, long x, long[] mem, int nr, HashSet<uint> actions, ref int budget)
    {
        while (true)
        {
            if (--budget < 0 || pc < 0 || pc >= _insns.Length)
            {
                return false;
            }

            (ushort code, byte jt, byte jf, uint k) = _insns[pc];
            switch (code & 0x07)
            {
                case 0x00: // BPF_LD
                    if (code == 0x20)
                    {
                        a = Load(k, nr); // LD|W|ABS
                    }
                    else if (code == 0x80)
                    {
                        a = SeccompDataBytes; // LD|W|LEN
                    }
                    else if (code == 0x00)
                    {
                        a = k; // LD|IMM
                    }
                    else if (code == 0x60 && k < 16)
                    {
                        a = mem[k]; // LD|MEM
                    }
                    else
                    {
                        return false;
                    }

                    break;
                case 0x01: // BPF_LDX
                    if (code == 0x81)
                    {
                        x = SeccompDataBytes;
                    }
                    else if (code == 0x01)
                    {
                        x = k;
                    }
                    else if (code == 0x61 && k < 16)
                    {
                        x = mem[k];
                    }
                    else
                    {
                        return false;
                    }

                    break;
                case 0x02: // BPF_ST
                case 0x03: // BPF_STX
                    if (k >= 16)
                    {
                        return false;
                    }

                    mem = (long[])mem.Clone();
                    mem[k] = (code & 0x07) == 0x02 ? a : x;
                    break;
                case 0x04: // BPF_ALU
                    a = Alu(code, a, (code & 0x08) != 0 ? x : k);
                    break;
                case 0x05: // BPF_JMP
                    if ((code & 0xf0) == 0x00)
                    {
                        pc += 1 + (int)k;
                        continue;
                    }

                    long operand = (code & 0x08) != 0 ? x : k;
                    bool? taken = Compare(code & 0xf0, a, operand);
                    if (taken is null)
                    {
                        if (!Walk(pc + 1 + jt, a, x, mem, nr, actions, ref budget))
                        {
                            return false;
                        }

                        pc += 1 + jf;
                        continue;
                    }

                    pc += 1 + (taken.Value ? jt : jf);
                    continue;
                case 0x06: // BPF_RET
                    long value = (code & 0x18) == 0x10 ? a : (code & 0x18) == 0x00 ? k : Unknown;
                    if (value == Unknown)
                    {
                        return false;
                    }

                    actions.Add((uint)value & RetActionFull);
                    return true;
                default: // BPF_MISC
                    if (code == 0x07)
                    {
                        x = a; // TAX
                    }
                    else if (code == 0x87)
                    {
                        a = x; // TXA
                    }
                    else
                    {
                        return false;
                    }

                    break;
            }

            pc++;
        }
    }

    private static long Load(uint offset, int nr) => offset switch
    {
        0 => (uint)nr,
        4 => AuditArchX8664,
        _ => Unknown, // instruction pointer and arguments: any value
    };

    private static long Alu(int code, long a, long operand)
    {
        if (a == Unknown || (operand == Unknown && (code & 0xf0) != 0x80))
        {
            return Unknown;
        }

        uint l = (uint)a;
        uint r = (uint)operand;
        return (code & 0xf0) switch
        {
            0x00 => l + r,
            0x10 => l - r,
            0x20 => l * r,
            0x30 => r == 0 ? Unknown : l / r,
            0x40 => l | r,
            0x50 => l & r,
            0x60 => r >= 32 ? 0 : l << (int)r,
            0x70 => r >= 32 ? 0 : l >> (int)r,
            0x80 => (uint)-(int)l,
            0x90 => r == 0 ? Unknown : l % r,
            0xa0 => l ^ r,
            _ => Unknown,
        };
    }

    private static bool? Compare(int op, long a, long operand)
    {
        if (a == Unknown || operand == Unknown)
        {
            return null;
        }

        uint l = (uint)a;
        uint r = (uint)operand;
        return op switch
        {
            0x10 => l == r,
            0x20 => l > r,
            0x30 => l >= r,
            0x40 => (l & r) != 0,
            _ => null,
        };
    }
}
