using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Tests.Unwinding;

/// <summary>The CFI expression evaluator over hand-built expressions (DWARF 5 §2.5, operation values from §7.7.1).</summary>
public sealed class DwarfExpressionTests
{
    // The CFA expression GNU ld emits for a lazy-binding PLT entry of 16 bytes: rsp + 8 + ((rip & 15) >= 11 ? 8 : 0).
    private static readonly byte[] s_plt = [0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22];

    [Theory]
    [InlineData(0x401020UL, 0x7ffe0008UL)]
    [InlineData(0x40102aUL, 0x7ffe0008UL)]
    [InlineData(0x40102bUL, 0x7ffe0010UL)]
    [InlineData(0x40102fUL, 0x7ffe0010UL)]
    public void PltCfaExpression(ulong rip, ulong expected)
    {
        UnwindRegisters regs = default;
        regs.Set(UnwindRegisters.Rsp, 0x7ffe0000);
        regs.Set(UnwindRegisters.Rip, rip);
        Assert.True(DwarfExpression.TryEvaluate(s_plt, regs, new StackCopyMemory(0, Array.Empty<byte>()), null, out ulong cfa, out string? error), error);
        Assert.Equal(expected, cfa);
    }

    [Fact]
    public void SignalFrameCfaDereferencesTheSigcontext()
    {
        // glibc's __restore_rt: DW_CFA_def_cfa_expression { DW_OP_breg7 160; DW_OP_deref } (rsp saved in uc_mcontext).
        byte[] bytes = new byte[256];
        BitConverter.GetBytes(0x7fff1234UL).CopyTo(bytes, 160);
        var memory = new StackCopyMemory(0x7ffe0000, bytes);
        UnwindRegisters regs = default;
        regs.Set(UnwindRegisters.Rsp, 0x7ffe0000);
        Assert.True(DwarfExpression.TryEvaluate([0x77, 0xa0, 0x01, 0x06], regs, memory, null, out ulong cfa, out string? error), error);
        Assert.Equal(0x7fff1234UL, cfa);
    }

    [Fact]
    public void InitialValueIsPushedFirst()
    {
        // DW_CFA_expression pushes the CFA: CFA - 16 as DW_OP_lit16; DW_OP_minus.
        UnwindRegisters regs = default;
        Assert.True(DwarfExpression.TryEvaluate([0x40, 0x1c], regs, new StackCopyMemory(0, Array.Empty<byte>()), 0x1000, out ulong v, out _));
        Assert.Equal(0xff0UL, v);
    }

    [Theory]
    [InlineData(new byte[] { 0x08, 0xff }, 0xffUL)] // const1u
    [InlineData(new byte[] { 0x09, 0xff }, ulong.MaxValue)] // const1s -1
    [InlineData(new byte[] { 0x0b, 0x00, 0x80 }, 0xffffffffffff8000UL)] // const2s
    [InlineData(new byte[] { 0x10, 0x80, 0x01 }, 128UL)] // constu
    [InlineData(new byte[] { 0x11, 0x7f }, ulong.MaxValue)] // consts -1
    [InlineData(new byte[] { 0x35, 0x23, 0x03 }, 8UL)] // lit5; plus_uconst 3
    [InlineData(new byte[] { 0x36, 0x32, 0x1e }, 12UL)] // lit6 lit2 mul
    [InlineData(new byte[] { 0x37, 0x32, 0x1b }, 3UL)] // lit7 lit2 div
    [InlineData(new byte[] { 0x37, 0x32, 0x1d }, 1UL)] // lit7 lit2 mod
    [InlineData(new byte[] { 0x31, 0x1f }, ulong.MaxValue)] // lit1 neg
    [InlineData(new byte[] { 0x11, 0x7b, 0x19 }, 5UL)] // consts -5 abs
    [InlineData(new byte[] { 0x30, 0x20 }, ulong.MaxValue)] // lit0 not
    [InlineData(new byte[] { 0x3c, 0x33, 0x21 }, 15UL)] // lit12 lit3 or
    [InlineData(new byte[] { 0x3c, 0x3a, 0x27 }, 6UL)] // lit12 lit10 xor
    [InlineData(new byte[] { 0x40, 0x32, 0x25 }, 4UL)] // lit16 lit2 shr
    [InlineData(new byte[] { 0x11, 0x70, 0x32, 0x26 }, ulong.MaxValue - 3)] // consts -16 lit2 shra = -4
    [InlineData(new byte[] { 0x31, 0x32, 0x2d }, 1UL)] // 1 < 2
    [InlineData(new byte[] { 0x31, 0x32, 0x2b }, 0UL)] // 1 > 2
    [InlineData(new byte[] { 0x32, 0x32, 0x29 }, 1UL)] // eq
    [InlineData(new byte[] { 0x32, 0x33, 0x2e }, 1UL)] // ne
    [InlineData(new byte[] { 0x32, 0x32, 0x2c }, 1UL)] // le
    [InlineData(new byte[] { 0x31, 0x32, 0x16, 0x1c }, 1UL)] // 1 2 swap minus = 2 - 1
    [InlineData(new byte[] { 0x31, 0x32, 0x14, 0x22, 0x22 }, 4UL)] // 1 2 over plus plus = 1+(2+1)
    [InlineData(new byte[] { 0x31, 0x32, 0x33, 0x17, 0x13, 0x13 }, 3UL)] // 1 2 3 rot drop drop: rot makes 3 1 2
    [InlineData(new byte[] { 0x31, 0x32, 0x15, 0x01, 0x22 }, 3UL)] // 1 2 pick 1 plus
    [InlineData(new byte[] { 0x31, 0x12, 0x22 }, 2UL)] // 1 dup plus
    [InlineData(new byte[] { 0x31, 0x28, 0x01, 0x00, 0x30, 0x3a }, 10UL)] // lit1 bra +1 (skip lit0) lit10
    [InlineData(new byte[] { 0x2f, 0x01, 0x00, 0x30, 0x3b, 0x96 }, 11UL)] // skip +1, lit11, nop
    public void Operations(byte[] expression, ulong expected)
    {
        UnwindRegisters regs = default;
        Assert.True(DwarfExpression.TryEvaluate(expression, regs, new StackCopyMemory(0, Array.Empty<byte>()), null, out ulong v, out string? error), error);
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData(new byte[] { 0x1c }, "underflow")]
    [InlineData(new byte[] { 0x31, 0x30, 0x1b }, "div by zero")]
    [InlineData(new byte[] { 0x50 }, "not supported")] // DW_OP_reg0 names a location
    [InlineData(new byte[] { 0x73, 0x00 }, "register 3")] // breg3 of an unknown register
    [InlineData(new byte[] { 0x30, 0x06 }, "cannot read")] // deref of 0
    [InlineData(new byte[] { 0x2f, 0x10, 0x00 }, "leaves")] // skip out of the expression
    [InlineData(new byte[] { 0x2f, 0xfd, 0xff }, "did not terminate")] // skip -3: a loop
    [InlineData(new byte[] { 0x0e, 0x01 }, "past its end")] // const8u truncated
    [InlineData(new byte[] { }, "empty stack")]
    public void MalformedExpressionsFailCleanly(byte[] expression, string message)
    {
        UnwindRegisters regs = default;
        Assert.False(DwarfExpression.TryEvaluate(expression, regs, new StackCopyMemory(0x1000, new byte[16]), null, out _, out string? error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
