namespace MemWatch.Probes.Unwinding;

/// <summary>
/// Unwinds an x86_64 user stack with <c>.eh_frame</c> CFI: for each frame it finds the FDE of the pc (the return
/// address minus one, except in the innermost frame and in a frame a signal interrupted), runs the CFA program to
/// that pc, computes the CFA and recovers the caller's registers. Signal frames unwind through the
/// <c>rt_sigframe</c> because glibc's <c>__restore_rt</c> CFI (augmentation <c>S</c>) describes it with expressions.
/// </summary>
/// <remarks>
/// One instance holds reusable scratch state and is not thread-safe; an unwind into a caller's span allocates nothing.
/// </remarks>
public sealed class StackUnwinder
{
    public const int DefaultMaxFrames = 512;

    // Rows already computed, by file and link-time pc. A thread stopped in the same place again (the remote-call engine
    // checks a blocked thread at every call) is unwound without decoding its FDEs or running their CFA programs. The key
    // is the file's table, so a row is reused only for the same file's CFI; bounded: cleared when full.
    private const int MaxCachedRows = 4096;

    private readonly CfaInterpreter _interpreter = new();
    private readonly Dictionary<(CfiTable Table, ulong LinkPc), CachedRow> _rows = [];

    /// <summary>Unwinds into a new list (convenience for callers off the hot path).</summary>
    public UnwindResult Unwind(UnwindAddressSpace space, in UnwindRegisters registers, IUnwindMemory memory, int maxFrames = DefaultMaxFrames)
    {
        var frames = new UnwindFrame[Math.Max(1, maxFrames)];
        UnwindEndReason reason = Unwind(space, registers, memory, frames, out int count, out string? detail);
        return new UnwindResult(frames.AsSpan(0, count).ToArray(), reason, detail);
    }

    /// <summary>
    /// Unwinds into <paramref name="frames"/> (its length is the frame limit); <paramref name="count"/> frames are
    /// filled, innermost first. <paramref name="detail"/> is null when the outermost frame was reached.
    /// </summary>
    public UnwindEndReason Unwind(UnwindAddressSpace space, in UnwindRegisters registers, IUnwindMemory memory, Span<UnwindFrame> frames, out int count, out string? detail)
        => Unwind(space, registers, memory, frames, out count, out detail, out _);

    /// <summary>
    /// As above, and <paramref name="outermost"/> holds the registers of the last frame filled in: where a caller that
    /// knows another way through code without CFI (JIT code with frame pointers) may carry on.
    /// </summary>
    public UnwindEndReason Unwind(UnwindAddressSpace space, in UnwindRegisters registers, IUnwindMemory memory, Span<UnwindFrame> frames, out int count, out string? detail, out UnwindRegisters outermost)
    {
        count = 0;
        detail = null;
        UnwindRegisters regs = registers;
        outermost = regs;
        bool exact = true;
        if (!regs.IsKnown(UnwindRegisters.Rip) || !regs.IsKnown(UnwindRegisters.Rsp))
        {
            detail = "rip and rsp must be known";
            return UnwindEndReason.BadCfi;
        }

        while (true)
        {
            ulong pc = regs.Ip;
            ulong sp = regs.Sp;
            if (pc == 0)
            {
                return UnwindEndReason.Outermost;
            }

            if (count == frames.Length)
            {
                detail = $"more than {frames.Length} frames";
                return UnwindEndReason.FrameLimit;
            }

            frames[count++] = new UnwindFrame(pc, sp, exact);
            outermost = regs;
            ulong lookup = exact ? pc : pc - 1;
            UnwindModule? module = space.Find(lookup);
            if (module is null)
            {
                detail = $"0x{pc:x} is in no module with CFI";
                return UnwindEndReason.NoCfi;
            }

            ulong linkPc = lookup - module.Bias;
            if (!_rows.TryGetValue((module.Table, linkPc), out CachedRow? cached))
            {
                if (!module.Table.TryFindFde(linkPc, out FrameDescriptionEntry found, out CfiSection foundSection))
                {
                    detail = $"no FDE for 0x{pc:x} ({module.Path}+0x{linkPc:x})";
                    return UnwindEndReason.NoFde;
                }

                if (!_interpreter.TryFindRow(foundSection, found, linkPc, out CfaRow foundRow, out string? error))
                {
                    detail = $"{module.Path}+0x{linkPc:x}: {error}";
                    return UnwindEndReason.BadCfi;
                }

                if (_rows.Count >= MaxCachedRows)
                {
                    _rows.Clear();
                }

                cached = new CachedRow(found, foundSection, foundRow);
                _rows[(module.Table, linkPc)] = cached;
            }

            FrameDescriptionEntry fde = cached.Fde;
            CfiSection section = cached.Section;
            ref readonly CfaRow row = ref cached.Row;
            int ra = fde.Cie.ReturnAddressRegister;
            if (ra != UnwindRegisters.Rip)
            {
                detail = $"{module.Path}: return address column {ra} is not 16";
                return UnwindEndReason.BadCfi;
            }

            if (row.Registers[ra].Kind == RegisterRuleKind.Undefined)
            {
                return UnwindEndReason.Outermost;
            }

            UnwindEndReason? failure = Step(section, row, ref regs, memory, out detail);
            if (failure is { } f)
            {
                detail = $"{module.Path}+0x{linkPc:x}: {detail}";
                return f;
            }

            if (regs.Sp < sp || (regs.Sp == sp && regs.Ip == pc) || !regs.IsKnown(UnwindRegisters.Rip))
            {
                detail = $"frame at 0x{pc:x}: the caller's rsp 0x{regs.Sp:x} is not above 0x{sp:x}";
                return UnwindEndReason.Cycle;
            }

            // The caller of a signal trampoline was interrupted at its pc, not after a call.
            exact = fde.Cie.IsSignalFrame;
        }
    }

    /// <summary>Replaces <paramref name="regs"/> by the caller's registers per <paramref name="row"/>.</summary>
    private static UnwindEndReason? Step(CfiSection section, in CfaRow row, ref UnwindRegisters regs, IUnwindMemory memory, out string? detail)
    {
        detail = null;
        ulong cfa;
        if (row.CfaIsExpression)
        {
            if (!DwarfExpression.TryEvaluate(Expression(section, row.CfaExpressionStart, row.CfaExpressionLength), regs, memory, null, out cfa, out detail))
            {
                return detail is not null && detail.StartsWith("cannot read", StringComparison.Ordinal) ? UnwindEndReason.UnreadableMemory : UnwindEndReason.BadCfi;
            }
        }
        else if (regs.TryGet(row.CfaRegister, out ulong baseValue))
        {
            cfa = baseValue + (ulong)row.CfaOffset;
        }
        else
        {
            detail = $"CFA register {row.CfaRegister} is not known";
            return UnwindEndReason.BadCfi;
        }

        UnwindRegisters caller = regs;
        for (int i = 0; i < UnwindRegisters.Count; i++)
        {
            RegisterRule rule = row.Registers[i];
            ulong value;
            switch (rule.Kind)
            {
                case RegisterRuleKind.Unspecified:
                case RegisterRuleKind.SameValue:
                    continue;
                case RegisterRuleKind.Undefined:
                    caller.Forget(i);
                    continue;
                case RegisterRuleKind.Offset:
                    if (!memory.TryReadU64(cfa + (ulong)rule.Value, out value))
                    {
                        detail = $"register {i} saved at 0x{cfa + (ulong)rule.Value:x} is unreadable";
                        return UnwindEndReason.UnreadableMemory;
                    }

                    break;
                case RegisterRuleKind.ValOffset:
                    value = cfa + (ulong)rule.Value;
                    break;
                case RegisterRuleKind.Register:
                    if (!regs.TryGet((int)rule.Value, out value))
                    {
                        caller.Forget(i);
                        continue;
                    }

                    break;
                case RegisterRuleKind.Expression:
                case RegisterRuleKind.ValExpression:
                    if (!DwarfExpression.TryEvaluate(Expression(section, rule.ExpressionStart, rule.ExpressionLength), regs, memory, cfa, out value, out detail))
                    {
                        return UnwindEndReason.BadCfi;
                    }

                    if (rule.Kind == RegisterRuleKind.Expression && !memory.TryReadU64(value, out value))
                    {
                        detail = $"register {i} saved at 0x{value:x} is unreadable";
                        return UnwindEndReason.UnreadableMemory;
                    }

                    break;
                default:
                    continue;
            }

            caller.Set(i, value);
        }

        // The CFA is the caller's rsp unless a rule says otherwise (signal frames restore rsp from the sigcontext).
        if (row.Registers[UnwindRegisters.Rsp].Kind is RegisterRuleKind.Unspecified or RegisterRuleKind.SameValue)
        {
            caller.Set(UnwindRegisters.Rsp, cfa);
        }

        if (!caller.IsKnown(UnwindRegisters.Rip) || row.Registers[UnwindRegisters.Rip].Kind is RegisterRuleKind.Unspecified)
        {
            detail = "no rule recovers the return address";
            return UnwindEndReason.BadCfi;
        }

        regs = caller;
        return null;
    }

    private static ReadOnlySpan<byte> Expression(CfiSection section, int start, int length)
        => (uint)start <= (uint)section.Data.Length && (uint)length <= (uint)(section.Data.Length - start)
            ? section.Data.AsSpan(start, length)
            : ReadOnlySpan<byte>.Empty;

    private sealed class CachedRow(FrameDescriptionEntry fde, CfiSection section, CfaRow row)
    {
        public readonly FrameDescriptionEntry Fde = fde;
        public readonly CfiSection Section = section;
        public readonly CfaRow Row = row;
    }
}
