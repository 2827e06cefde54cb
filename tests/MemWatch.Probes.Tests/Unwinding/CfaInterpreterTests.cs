using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Tests.Unwinding;

/// <summary>CIE/FDE parsing and the CFA program interpreter over a hand-built <c>.eh_frame</c> (DWARF 5 §6.4, LSB 1.3).</summary>
public sealed class CfaInterpreterTests
{
    private const ulong SectionAddress = 0x2000;
    private const ulong FunctionStart = 0x1000;

    [Fact]
    public void RowsFollowTheProgram()
    {
        byte[] program =
        [
            0x41,             // advance_loc 1            → 0x1001
            0x0e, 0x10,       // def_cfa_offset 16
            0x86, 0x02,       // offset rbp at cfa-16
            0x43,             // advance_loc 3            → 0x1004
            0x0d, 0x06,       // def_cfa_register rbp
            0x0a,             // remember_state
            0x2e, 0x20,       // GNU_args_size 32
            0x44,             // advance_loc 4            → 0x1008
            0x0c, 0x07, 0x08, // def_cfa rsp+8
            0xc6,             // restore rbp
            0x08, 0x03,       // same_value rbx
            0x41,             // advance_loc 1            → 0x1009
            0x0b,             // restore_state
            0x02, 0x07,       // advance_loc1 7           → 0x1010
            0x16, 0x0c, 0x02, 0x77, 0x10, // val_expression r12 { breg7 16 }
            0x09, 0x0d, 0x03, // register r13 in rbx
            0x14, 0x0e, 0x01, // val_offset r14 = cfa-8
            0x07, 0x0f,       // undefined r15
            0x2f, 0x03, 0x02, // GNU_negative_offset_extended rbx: cfa+16
        ];
        (CfiSection section, FrameDescriptionEntry fde) = Build(program, 0x20, "zR"u8);
        var interpreter = new CfaInterpreter();

        CfaRow row = Row(interpreter, section, fde, 0x1000);
        Assert.Equal((7, 8L), (row.CfaRegister, row.CfaOffset));
        Assert.Equal(RegisterRuleKind.Offset, row.Registers[16].Kind);
        Assert.Equal(-8L, row.Registers[16].Value);
        Assert.Equal(RegisterRuleKind.Unspecified, row.Registers[6].Kind);

        row = Row(interpreter, section, fde, 0x1003);
        Assert.Equal((7, 16L), (row.CfaRegister, row.CfaOffset));
        Assert.Equal((RegisterRuleKind.Offset, -16L), (row.Registers[6].Kind, row.Registers[6].Value));

        row = Row(interpreter, section, fde, 0x1004);
        Assert.Equal((6, 16L), (row.CfaRegister, row.CfaOffset));
        Assert.Equal(32UL, row.ArgsSize);

        row = Row(interpreter, section, fde, 0x1008);
        Assert.Equal((7, 8L), (row.CfaRegister, row.CfaOffset));
        Assert.Equal(RegisterRuleKind.Unspecified, row.Registers[6].Kind); // restored to the CIE's (none)
        Assert.Equal(RegisterRuleKind.SameValue, row.Registers[3].Kind);

        row = Row(interpreter, section, fde, 0x100f);
        Assert.Equal((6, 16L), (row.CfaRegister, row.CfaOffset)); // the remembered state, CFA included
        Assert.Equal((RegisterRuleKind.Offset, -16L), (row.Registers[6].Kind, row.Registers[6].Value));
        Assert.Equal(RegisterRuleKind.Unspecified, row.Registers[3].Kind);

        row = Row(interpreter, section, fde, 0x101f);
        Assert.Equal(RegisterRuleKind.ValExpression, row.Registers[12].Kind);
        Assert.Equal([0x77, 0x10], section.Data.AsSpan(row.Registers[12].ExpressionStart, row.Registers[12].ExpressionLength).ToArray());
        Assert.Equal((RegisterRuleKind.Register, 3L), (row.Registers[13].Kind, row.Registers[13].Value));
        Assert.Equal((RegisterRuleKind.ValOffset, -8L), (row.Registers[14].Kind, row.Registers[14].Value));
        Assert.Equal(RegisterRuleKind.Undefined, row.Registers[15].Kind);
        Assert.Equal((RegisterRuleKind.Offset, 16L), (row.Registers[3].Kind, row.Registers[3].Value));
    }

    [Fact]
    public void AugmentationsAreParsed()
    {
        (CfiSection section, FrameDescriptionEntry fde) = Build([0x00], 0x10, "zPLRS"u8);
        Assert.True(fde.Cie.IsSignalFrame);
        Assert.True(fde.Cie.HasAugmentationData);
        Assert.Equal(EhPointer.PcRel | EhPointer.Sdata4, fde.Cie.FdeEncoding);
        Assert.Equal(FunctionStart, fde.PcBegin);
        Assert.Equal(FunctionStart + 0x10, fde.PcEnd);
        Assert.True(new CfaInterpreter().TryFindRow(section, fde, FunctionStart, out _, out _));
    }

    [Theory]
    [InlineData(new byte[] { 0x0b }, "without a remembered state")]
    [InlineData(new byte[] { 0x3f }, "unknown CFA instruction")]
    [InlineData(new byte[] { 0x0c, 0x07 }, "past its entry")]
    public void MalformedProgramsFail(byte[] program, string message)
    {
        // Programs are padded to the entry's alignment with nops; a truncated operand reads into them or past the end.
        (CfiSection section, FrameDescriptionEntry fde) = Build(program, 0x10, "zR"u8, pad: false);
        Assert.False(new CfaInterpreter().TryFindRow(section, fde, FunctionStart + 1, out _, out string? error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedEntriesAreRejected()
    {
        (CfiSection section, FrameDescriptionEntry fde) = Build([0x00], 0x10, "zR"u8);
        byte[] cut = section.Data.AsSpan(0, fde.Offset + 6).ToArray();
        var truncated = new CfiSection(cut, SectionAddress, isDebugFrame: false);
        Assert.False(truncated.TryParseFde(fde.Offset, out _));
    }

    private static CfaRow Row(CfaInterpreter interpreter, CfiSection section, FrameDescriptionEntry fde, ulong pc)
    {
        Assert.True(interpreter.TryFindRow(section, fde, pc, out CfaRow row, out string? error), error);
        return row;
    }

    /// <summary>A CIE (code align 1, data align -8, ra 16, initial: def_cfa rsp+8, offset ra cfa-8) and one FDE with <paramref name="program"/>.</summary>
    private static (CfiSection, FrameDescriptionEntry) Build(byte[] program, uint range, ReadOnlySpan<byte> augmentation, bool pad = true)
    {
        var cie = new List<byte>();
        cie.AddRange([0, 0, 0, 0]); // CIE id
        cie.Add(1); // version
        cie.AddRange(augmentation.ToArray());
        cie.Add(0);
        cie.Add(1); // code align
        cie.Add(0x78); // data align -8
        cie.Add(16); // ra
        var aug = new List<byte>();
        foreach (byte c in augmentation[1..])
        {
            switch ((char)c)
            {
                case 'P': aug.Add(EhPointer.Absptr | EhPointer.Udata8); aug.AddRange(BitConverter.GetBytes(0x12345678UL)); break;
                case 'L': aug.Add(EhPointer.PcRel | EhPointer.Sdata4); break;
                case 'R': aug.Add(EhPointer.PcRel | EhPointer.Sdata4); break;
            }
        }

        cie.Add((byte)aug.Count);
        cie.AddRange(aug);
        cie.AddRange([0x0c, 0x07, 0x08, 0x90, 0x01]); // def_cfa rsp+8; offset r16 cfa-8
        while (pad && (cie.Count + 4) % 8 != 0)
        {
            cie.Add(0);
        }

        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes((uint)cie.Count));
        bytes.AddRange(cie);
        int fdeOffset = bytes.Count;
        var fde = new List<byte>();
        fde.AddRange(BitConverter.GetBytes((uint)(fdeOffset + 4))); // CIE pointer: back to offset 0
        long pcField = (long)SectionAddress + fdeOffset + 8;
        fde.AddRange(BitConverter.GetBytes((int)((long)FunctionStart - pcField)));
        fde.AddRange(BitConverter.GetBytes(range));
        fde.Add(0); // augmentation data length (no LSDA)
        fde.AddRange(program);
        while (pad && (fde.Count + 4) % 8 != 0)
        {
            fde.Add(0);
        }

        bytes.AddRange(BitConverter.GetBytes((uint)fde.Count));
        bytes.AddRange(fde);
        bytes.AddRange([0, 0, 0, 0]); // terminator
        var section = new CfiSection([.. bytes], SectionAddress, isDebugFrame: false);
        Assert.True(section.TryParseFde(fdeOffset, out FrameDescriptionEntry entry));
        return (section, entry);
    }
}
