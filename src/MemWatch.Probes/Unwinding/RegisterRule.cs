namespace MemWatch.Probes.Unwinding;

/// <summary>One register's rule in a CFA row. <see cref="Value"/> is the offset (Offset, ValOffset) or the register (Register);
/// an expression is <see cref="ExpressionLength"/> bytes at <see cref="ExpressionStart"/> in the section.</summary>
public struct RegisterRule
{
    public RegisterRuleKind Kind;
    public long Value;
    public int ExpressionStart;
    public int ExpressionLength;
}
