using System.Runtime.CompilerServices;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// The x86_64 registers the CFI describes, indexed by DWARF register number (System V psABI x86-64, figure 3.36):
/// 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15, 16 the return address (rip).
/// A register is either known or not; an unknown one (restored by no rule) must not be used.
/// </summary>
public struct UnwindRegisters
{
    public const int Count = 17;
    public const int Rbp = 6;
    public const int Rsp = 7;
    public const int Rip = 16;

    private Values _values;
    private uint _known;

    public ulong Ip
    {
        readonly get => _values[Rip];
        set => Set(Rip, value);
    }

    public ulong Sp
    {
        readonly get => _values[Rsp];
        set => Set(Rsp, value);
    }

    /// <summary>Bit N set when register N is known.</summary>
    public readonly uint KnownMask => _known;

    internal static UnwindRegisters FromUserRegs(in UserRegs r)
    {
        var u = default(UnwindRegisters);
        u.Set(0, r.Rax);
        u.Set(1, r.Rdx);
        u.Set(2, r.Rcx);
        u.Set(3, r.Rbx);
        u.Set(4, r.Rsi);
        u.Set(5, r.Rdi);
        u.Set(6, r.Rbp);
        u.Set(7, r.Rsp);
        u.Set(8, r.R8);
        u.Set(9, r.R9);
        u.Set(10, r.R10);
        u.Set(11, r.R11);
        u.Set(12, r.R12);
        u.Set(13, r.R13);
        u.Set(14, r.R14);
        u.Set(15, r.R15);
        u.Set(16, r.Rip);
        return u;
    }

    public readonly bool IsKnown(int register) => (uint)register < Count && (_known & (1u << register)) != 0;

    public readonly bool TryGet(int register, out ulong value)
    {
        bool known = IsKnown(register);
        value = known ? _values[register] : 0;
        return known;
    }

    public void Set(int register, ulong value)
    {
        if ((uint)register >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(register), register, "x86_64 CFI registers are 0-16");
        }

        _values[register] = value;
        _known |= 1u << register;
    }

    public void Forget(int register)
    {
        if ((uint)register < Count)
        {
            _known &= ~(1u << register);
        }
    }

    [InlineArray(Count)]
    private struct Values
    {
        private ulong _element0;
    }
}
