namespace MemWatch.Probes.Unwinding;

/// <summary>
/// Runs a CIE's initial instructions and an FDE's CFA program up to a pc and yields the row in effect there
/// (DWARF 5 §6.4.2, "Call Frame Instructions", plus the GNU extensions <c>DW_CFA_GNU_args_size</c> and
/// <c>DW_CFA_GNU_negative_offset_extended</c>). One instance is reused across frames: the remember/restore stack is
/// its only state, so an unwind allocates nothing.
/// </summary>
internal sealed class CfaInterpreter
{
    private const int MaxRememberDepth = 32;

    private readonly CfaRow[] _remembered = new CfaRow[MaxRememberDepth];

    /// <summary>
    /// The row for <paramref name="pc"/> (a link-time address inside <paramref name="fde"/>). False with
    /// <paramref name="error"/> when the program is malformed or uses an instruction this unwinder does not know.
    /// </summary>
    public bool TryFindRow(CfiSection section, in FrameDescriptionEntry fde, ulong pc, out CfaRow row, out string? error)
    {
        row = default;
        CommonInformationEntry cie = fde.Cie;
        if (!Run(section, cie, cie.InstructionsStart, cie.InstructionsEnd, ulong.MaxValue, 0, ref row, default, isCie: true, out error))
        {
            return false;
        }

        CfaRow initial = row;
        return Run(section, cie, fde.InstructionsStart, fde.InstructionsEnd, pc, fde.PcBegin, ref row, initial, isCie: false, out error);
    }

    private bool Run(CfiSection section, CommonInformationEntry cie, int start, int end, ulong pc, ulong location, ref CfaRow row, in CfaRow initial, bool isCie, out string? error)
    {
        error = null;
        // Bounded by the entry: an operand cut short must fail, not read the next entry's bytes.
        var r = new DwarfReader(section.Data.AsSpan(0, Math.Min(end, section.Data.Length)), section.Address, start);
        int depth = 0;
        while (r.Position < end)
        {
            byte op = r.U8();
            byte low = (byte)(op & 0x3f);
            switch (op >> 6)
            {
                case 1: // DW_CFA_advance_loc
                    location += low * cie.CodeAlignment;
                    if (location > pc)
                    {
                        return true;
                    }

                    continue;
                case 2: // DW_CFA_offset
                    SetRule(ref row, low, RegisterRuleKind.Offset, (long)r.Uleb() * cie.DataAlignment);
                    continue;
                case 3: // DW_CFA_restore
                    Restore(ref row, initial, low, isCie);
                    continue;
            }

            switch (op)
            {
                case 0x00: // nop
                    break;
                case 0x01: // set_loc
                    location = r.EncodedPointer(cie.FdeEncoding, 0, 0, out _);
                    if (location > pc)
                    {
                        return true;
                    }

                    break;
                case 0x02:
                case 0x03:
                case 0x04: // advance_loc1/2/4
                    ulong delta = op == 0x02 ? r.U8() : op == 0x03 ? r.U16() : r.U32();
                    location += delta * cie.CodeAlignment;
                    if (location > pc)
                    {
                        return true;
                    }

                    break;
                case 0x05: // offset_extended
                    SetRule(ref row, Reg(ref r), RegisterRuleKind.Offset, (long)r.Uleb() * cie.DataAlignment);
                    break;
                case 0x06: // restore_extended
                    Restore(ref row, initial, Reg(ref r), isCie);
                    break;
                case 0x07: // undefined
                    SetRule(ref row, Reg(ref r), RegisterRuleKind.Undefined, 0);
                    break;
                case 0x08: // same_value
                    SetRule(ref row, Reg(ref r), RegisterRuleKind.SameValue, 0);
                    break;
                case 0x09: // register
                    int target = Reg(ref r);
                    SetRule(ref row, target, RegisterRuleKind.Register, Reg(ref r));
                    break;
                case 0x0a: // remember_state
                    if (depth == MaxRememberDepth)
                    {
                        error = "DW_CFA_remember_state nested too deep";
                        return false;
                    }

                    _remembered[depth++] = row;
                    break;
                case 0x0b: // restore_state
                    if (depth == 0)
                    {
                        error = "DW_CFA_restore_state without a remembered state";
                        return false;
                    }

                    // The CFA rule is part of the remembered state too (DWARF 5 §6.4.2.4), args_size is not.
                    ulong argsSize = row.ArgsSize;
                    row = _remembered[--depth];
                    row.ArgsSize = argsSize;
                    break;
                case 0x0c: // def_cfa
                    row.CfaIsExpression = false;
                    row.CfaRegister = Reg(ref r);
                    row.CfaOffset = (long)r.Uleb();
                    break;
                case 0x0d: // def_cfa_register
                    row.CfaIsExpression = false;
                    row.CfaRegister = Reg(ref r);
                    break;
                case 0x0e: // def_cfa_offset
                    row.CfaOffset = (long)r.Uleb();
                    break;
                case 0x0f: // def_cfa_expression
                    row.CfaIsExpression = true;
                    (row.CfaExpressionStart, row.CfaExpressionLength) = Block(ref r);
                    break;
                case 0x10: // expression
                case 0x16: // val_expression
                    int reg = Reg(ref r);
                    (int s, int l) = Block(ref r);
                    if (reg < UnwindRegisters.Count)
                    {
                        ref RegisterRule rule = ref row.Registers[reg];
                        rule.Kind = op == 0x10 ? RegisterRuleKind.Expression : RegisterRuleKind.ValExpression;
                        rule.ExpressionStart = s;
                        rule.ExpressionLength = l;
                    }

                    break;
                case 0x11: // offset_extended_sf
                    SetRule(ref row, Reg(ref r), RegisterRuleKind.Offset, r.Sleb() * cie.DataAlignment);
                    break;
                case 0x12: // def_cfa_sf
                    row.CfaIsExpression = false;
                    row.CfaRegister = Reg(ref r);
                    row.CfaOffset = r.Sleb() * cie.DataAlignment;
                    break;
                case 0x13: // def_cfa_offset_sf
                    row.CfaOffset = r.Sleb() * cie.DataAlignment;
                    break;
                case 0x14: // val_offset
                    SetRule(ref row, Reg(ref r), RegisterRuleKind.ValOffset, (long)r.Uleb() * cie.DataAlignment);
                    break;
                case 0x15: // val_offset_sf
                    SetRule(ref row, Reg(ref r), RegisterRuleKind.ValOffset, r.Sleb() * cie.DataAlignment);
                    break;
                case 0x2e: // GNU_args_size
                    row.ArgsSize = r.Uleb();
                    break;
                case 0x2f: // GNU_negative_offset_extended
                    SetRule(ref row, Reg(ref r), RegisterRuleKind.Offset, -(long)r.Uleb() * cie.DataAlignment);
                    break;
                default:
                    error = $"unknown CFA instruction 0x{op:x2} at offset 0x{r.Position - 1:x}";
                    return false;
            }

            if (r.Failed)
            {
                error = $"CFA program runs past its entry at offset 0x{r.Position:x}";
                return false;
            }
        }

        return true;
    }

    private static int Reg(ref DwarfReader r) => (int)Math.Min(r.Uleb(), int.MaxValue);

    private static (int Start, int Length) Block(ref DwarfReader r)
    {
        ulong length = r.Uleb();
        int start = r.Position;
        r.Skip(length);
        return (start, (int)Math.Min(length, int.MaxValue));
    }

    private static void SetRule(ref CfaRow row, int register, RegisterRuleKind kind, long value)
    {
        if (register < UnwindRegisters.Count)
        {
            ref RegisterRule rule = ref row.Registers[register];
            rule.Kind = kind;
            rule.Value = value;
        }
    }

    private static void Restore(ref CfaRow row, in CfaRow initial, int register, bool isCie)
    {
        if (register < UnwindRegisters.Count)
        {
            row.Registers[register] = isCie ? default : initial.Registers[register];
        }
    }
}
