using System.Runtime.CompilerServices;

namespace MemWatch.Probes.Unwinding;

/// <summary>
/// One row of the CFI table (DWARF 5 §6.4.1) for x86_64: how to compute the CFA (register + offset, or an
/// expression) and a rule for each of the 17 registers. Registers above 16 (vector registers) are not kept: the
/// unwinder never needs them.
/// </summary>
public struct CfaRow
{
    /// <summary>True when the CFA is an expression (<c>DW_CFA_def_cfa_expression</c>), else register + offset.</summary>
    public bool CfaIsExpression;
    public int CfaRegister;
    public long CfaOffset;
    public int CfaExpressionStart;
    public int CfaExpressionLength;

    /// <summary><c>DW_CFA_GNU_args_size</c>: bytes of outgoing arguments pushed at this point.</summary>
    public ulong ArgsSize;

    public Rules Registers;

    [InlineArray(UnwindRegisters.Count)]
    public struct Rules
    {
        private RegisterRule _element0;
    }
}
