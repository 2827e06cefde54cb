namespace MemWatch.Probes.Unwinding;

/// <summary>
/// Evaluates the DWARF expressions CFI uses (DWARF 5 §2.5): the stack operations, arithmetic and comparisons,
/// <c>DW_OP_breg*</c>/<c>bregx</c> on the frame's registers and <c>DW_OP_deref</c>/<c>deref_size</c> through
/// <see cref="IUnwindMemory"/>. Operations that name a location rather than compute a value (<c>DW_OP_reg*</c>,
/// <c>piece</c>, <c>fbreg</c>, TLS) are rejected: they do not occur in call-frame information.
/// </summary>
internal static class DwarfExpression
{
    private const int MaxStack = 64;
    private const int MaxSteps = 10_000;

    /// <summary>
    /// Evaluates <paramref name="expression"/>; <paramref name="initial"/>, when given, is pushed first (the CFA, for
    /// <c>DW_CFA_expression</c>/<c>val_expression</c>). False with <paramref name="error"/> on a malformed expression,
    /// an unknown operation, an unknown register or an unreadable address.
    /// </summary>
    public static bool TryEvaluate(
        ReadOnlySpan<byte> expression,
        in UnwindRegisters registers,
        IUnwindMemory memory,
        ulong? initial,
        out ulong result,
        out string? error)
    {
        result = 0;
        error = null;
        Span<ulong> stack = stackalloc ulong[MaxStack];
        int sp = 0;
        if (initial is ulong first)
        {
            stack[sp++] = first;
        }

        Span<byte> word = stackalloc byte[8];
        var r = new DwarfReader(expression, 0);
        int steps = 0;
        while (r.Position < expression.Length)
        {
            if (++steps > MaxSteps)
            {
                error = "DWARF expression did not terminate";
                return false;
            }

            byte op = r.U8();
            ulong a;
            ulong b;
            switch (op)
            {
                case >= 0x30 and <= 0x4f: // lit0..lit31
                    if (!Push(stack, ref sp, (ulong)(op - 0x30), ref error))
                    {
                        return false;
                    }

                    break;
                case >= 0x70 and <= 0x8f: // breg0..breg31
                case 0x92: // bregx
                    int reg = op == 0x92 ? (int)Math.Min(r.Uleb(), int.MaxValue) : op - 0x70;
                    long offset = r.Sleb();
                    if (!registers.TryGet(reg, out ulong value))
                    {
                        error = $"DW_OP_breg{reg}: register {reg} is not known in this frame";
                        return false;
                    }

                    if (!Push(stack, ref sp, value + (ulong)offset, ref error))
                    {
                        return false;
                    }

                    break;
                case 0x08: // const1u
                case 0x09: // const1s
                case 0x0a: // const2u
                case 0x0b: // const2s
                case 0x0c: // const4u
                case 0x0d: // const4s
                case 0x0e: // const8u
                case 0x0f: // const8s
                case 0x10: // constu
                case 0x11: // consts
                case 0x03: // addr
                    ulong constant = op switch
                    {
                        0x08 => r.U8(),
                        0x09 => (ulong)(long)(sbyte)r.U8(),
                        0x0a => r.U16(),
                        0x0b => (ulong)(long)(short)r.U16(),
                        0x0c => r.U32(),
                        0x0d => (ulong)(long)(int)r.U32(),
                        0x10 => r.Uleb(),
                        0x11 => (ulong)r.Sleb(),
                        _ => r.U64(),
                    };
                    if (!Push(stack, ref sp, constant, ref error))
                    {
                        return false;
                    }

                    break;
                case 0x06: // deref
                case 0x94: // deref_size
                    int size = op == 0x06 ? 8 : r.U8();
                    if (!Pop(stack, ref sp, out a, ref error))
                    {
                        return false;
                    }

                    if (size is < 1 or > 8)
                    {
                        error = $"DW_OP_deref_size {size}";
                        return false;
                    }

                    word.Clear();
                    if (!memory.TryRead(a, word[..size]))
                    {
                        error = $"cannot read {size} bytes at 0x{a:x}";
                        return false;
                    }

                    stack[sp++] = BitConverter.ToUInt64(word);
                    break;
                case 0x12: // dup
                    if (!Peek(stack, sp, 0, out a, ref error) || !Push(stack, ref sp, a, ref error))
                    {
                        return false;
                    }

                    break;
                case 0x13: // drop
                    if (!Pop(stack, ref sp, out _, ref error))
                    {
                        return false;
                    }

                    break;
                case 0x14: // over
                case 0x15: // pick
                    int index = op == 0x14 ? 1 : r.U8();
                    if (!Peek(stack, sp, index, out a, ref error) || !Push(stack, ref sp, a, ref error))
                    {
                        return false;
                    }

                    break;
                case 0x16: // swap
                    if (sp < 2)
                    {
                        error = "DW_OP_swap on a short stack";
                        return false;
                    }

                    (stack[sp - 1], stack[sp - 2]) = (stack[sp - 2], stack[sp - 1]);
                    break;
                case 0x17: // rot
                    if (sp < 3)
                    {
                        error = "DW_OP_rot on a short stack";
                        return false;
                    }

                    (stack[sp - 1], stack[sp - 2], stack[sp - 3]) = (stack[sp - 2], stack[sp - 3], stack[sp - 1]);
                    break;
                case 0x19: // abs
                case 0x1f: // neg
                case 0x20: // not
                    if (!Pop(stack, ref sp, out a, ref error))
                    {
                        return false;
                    }

                    stack[sp++] = op switch
                    {
                        0x19 => (long)a < 0 ? (ulong)(-(long)a) : a,
                        0x1f => (ulong)-(long)a,
                        _ => ~a,
                    };
                    break;
                case 0x23: // plus_uconst
                    if (!Pop(stack, ref sp, out a, ref error))
                    {
                        return false;
                    }

                    stack[sp++] = a + r.Uleb();
                    break;
                case >= 0x1a and <= 0x2e when op is not (0x1f or 0x20 or 0x23 or 0x28):
                    if (!Pop(stack, ref sp, out b, ref error) || !Pop(stack, ref sp, out a, ref error))
                    {
                        return false;
                    }

                    if (!Binary(op, a, b, out ulong v, ref error))
                    {
                        return false;
                    }

                    stack[sp++] = v;
                    break;
                case 0x28: // bra
                    short branch = (short)r.U16();
                    if (!Pop(stack, ref sp, out a, ref error))
                    {
                        return false;
                    }

                    if (a != 0 && !Jump(ref r, branch, expression.Length, ref error))
                    {
                        return false;
                    }

                    break;
                case 0x2f: // skip
                    if (!Jump(ref r, (short)r.U16(), expression.Length, ref error))
                    {
                        return false;
                    }

                    break;
                case 0x96: // nop
                    break;
                default:
                    error = $"DWARF operation 0x{op:x2} is not supported in call-frame information";
                    return false;
            }

            if (r.Failed)
            {
                error = "DWARF expression runs past its end";
                return false;
            }
        }

        if (sp == 0)
        {
            error = "DWARF expression left an empty stack";
            return false;
        }

        result = stack[sp - 1];
        return true;
    }

    private static bool Binary(byte op, ulong a, ulong b, out ulong v, ref string? error)
    {
        v = 0;
        switch (op)
        {
            case 0x1a: v = a & b; break;
            case 0x1b:
                if (b == 0)
                {
                    error = "DW_OP_div by zero";
                    return false;
                }

                v = (long)b == -1 ? (ulong)(-(long)a) : (ulong)((long)a / (long)b);
                break;
            case 0x1c: v = a - b; break;
            case 0x1d:
                if (b == 0)
                {
                    error = "DW_OP_mod by zero";
                    return false;
                }

                v = a % b;
                break;
            case 0x1e: v = a * b; break;
            case 0x21: v = a | b; break;
            case 0x22: v = a + b; break;
            case 0x24: v = b >= 64 ? 0 : a << (int)b; break;
            case 0x25: v = b >= 64 ? 0 : a >> (int)b; break;
            case 0x26: v = (ulong)((long)a >> (int)Math.Min(b, 63)); break;
            case 0x27: v = a ^ b; break;
            case 0x29: v = a == b ? 1UL : 0; break;
            case 0x2a: v = (long)a >= (long)b ? 1UL : 0; break;
            case 0x2b: v = (long)a > (long)b ? 1UL : 0; break;
            case 0x2c: v = (long)a <= (long)b ? 1UL : 0; break;
            case 0x2d: v = (long)a < (long)b ? 1UL : 0; break;
            case 0x2e: v = a != b ? 1UL : 0; break;
            default:
                error = $"DWARF operation 0x{op:x2} is not supported in call-frame information";
                return false;
        }

        return true;
    }

    private static bool Jump(ref DwarfReader r, short offset, int length, ref string? error)
    {
        int target = r.Position + offset;
        if (target < 0 || target > length)
        {
            error = "DWARF branch leaves the expression";
            return false;
        }

        r.Position = target;
        return true;
    }

    private static bool Push(Span<ulong> stack, ref int sp, ulong value, ref string? error)
    {
        if (sp == stack.Length)
        {
            error = "DWARF expression stack overflow";
            return false;
        }

        stack[sp++] = value;
        return true;
    }

    private static bool Pop(Span<ulong> stack, ref int sp, out ulong value, ref string? error)
    {
        if (sp == 0)
        {
            value = 0;
            error = "DWARF expression stack underflow";
            return false;
        }

        value = stack[--sp];
        return true;
    }

    private static bool Peek(Span<ulong> stack, int sp, int index, out ulong value, ref string? error)
    {
        if (index >= sp)
        {
            value = 0;
            error = "DWARF expression stack underflow";
            return false;
        }

        value = stack[sp - 1 - index];
        return true;
    }
}
