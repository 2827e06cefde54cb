namespace MemWatch.Probes.Unwinding;

/// <summary>How a register of the caller is recovered (DWARF 5 §6.4.1 "register rules").</summary>
public enum RegisterRuleKind : byte
{
    /// <summary>No rule given: the register keeps its value (callee-saved convention).</summary>
    Unspecified,

    Undefined,
    SameValue,

    /// <summary>Saved at CFA + N.</summary>
    Offset,

    /// <summary>The value is CFA + N.</summary>
    ValOffset,

    /// <summary>Held in another register.</summary>
    Register,

    /// <summary>Saved at the address a DWARF expression computes (the CFA pushed first).</summary>
    Expression,

    /// <summary>The value is what a DWARF expression computes (the CFA pushed first).</summary>
    ValExpression,
}
