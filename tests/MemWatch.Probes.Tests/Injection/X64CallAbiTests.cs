using System.Buffers.Binary;
using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Tests.Injection;

public sealed class X64CallAbiTests
{
    private static readonly X64ReturnPath s_memoryPath = new(0x7f00_0000_1000, 0x7f00_0000_2000, 24, 3, true, 0x18);
    private static readonly X64ReturnPath s_registerPath = new(0x7f00_0000_1000, 0x7f00_0000_3000, 0, 7, false, 0);

    [Theory]
    [InlineData(202, -512, 202)] // futex, ERESTARTSYS
    [InlineData(202, -513, 202)] // ERESTARTNOINTR
    [InlineData(34, -514, 34)] // pause, ERESTARTNOHAND
    [InlineData(230, -516, 230)] // clock_nanosleep, ERESTART_RESTARTBLOCK: re-issued, since rt_sigreturn resets the restart block
    public void WithRestartApplied_InterruptedSyscall_RewindsToSyscallInstruction(long orig, long rax, long expectedRax)
    {
        UserRegs saved = default;
        saved.OrigRax = unchecked((ulong)orig);
        saved.Rax = unchecked((ulong)rax);
        saved.Rip = 0x401002;
        UserRegs r = X64CallAbi.WithRestartApplied(saved);
        Assert.Equal(0x401000UL, r.Rip);
        Assert.Equal(expectedRax, unchecked((long)r.Rax));
        Assert.Equal(ulong.MaxValue, r.OrigRax);
    }

    [Theory]
    [InlineData(-1, -512)] // not in a syscall: rax is user data
    [InlineData(0, 5)] // read() completed with 5
    [InlineData(202, -4)] // EINTR is final
    public void WithRestartApplied_NoRestartPending_KeepsRipAndRax(long orig, long rax)
    {
        UserRegs saved = default;
        saved.OrigRax = unchecked((ulong)orig);
        saved.Rax = unchecked((ulong)rax);
        saved.Rip = 0x401002;
        UserRegs r = X64CallAbi.WithRestartApplied(saved);
        Assert.Equal(0x401002UL, r.Rip);
        Assert.Equal(rax, unchecked((long)r.Rax));
        Assert.Equal(ulong.MaxValue, r.OrigRax);
    }

    [Theory]
    [InlineData(0x7ffd_1234_5678UL, 0)]
    [InlineData(0x7ffd_1234_5670UL, 37)]
    [InlineData(0x7ffd_1234_5601UL, 4096)]
    public void BuildFrame_AnyRspAndScratch_AbiAlignmentAndSigreturnFrame(ulong rsp, int scratchLength)
    {
        UserRegs saved = SampleRegs(rsp);
        byte[] xstate = SampleXstate(832);
        X64CallFrame f = X64CallAbi.BuildFrame(saved, xstate, 0x1_0002, scratchLength, s_memoryPath);

        Assert.Equal(8UL, f.EntryRsp % 16); // as after a call instruction
        Assert.Equal(f.WriteAddress, f.EntryRsp);
        Assert.True(f.WriteAddress + (ulong)f.Bytes.Length <= rsp - 128, "the frame overlaps the red zone");
        Assert.Equal(f.ScratchAddress + (ulong)scratchLength, f.WriteAddress + (ulong)f.Bytes.Length);
        Assert.Equal(0UL, f.ScratchAddress % 16);

        Assert.Equal(s_memoryPath.Capture, U64(f, f.EntryRsp));
        Assert.Equal(f.EntryRsp + 8 + (ulong)s_memoryPath.CaptureStackBytes + 8, f.ReturnRsp);
        Assert.Equal(s_memoryPath.Restorer, U64(f, f.ReturnRsp - 8)); // pretcode
        ulong uc = f.ReturnRsp;
        Assert.Equal(7UL, U64(f, uc)); // UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
        Assert.Equal(0UL, U64(f, uc + 16) | U64(f, uc + 24) | U64(f, uc + 32)); // uc_stack left alone
        Assert.Equal(0x1_0002UL, U64(f, uc + 296));
        ulong sc = uc + 40;
        Assert.Equal(saved.Rip - 2, U64(f, sc + 128)); // restart applied: back onto the syscall
        Assert.Equal(saved.OrigRax, U64(f, sc + 104)); // rax = the syscall number again
        Assert.Equal(saved.Rsp, U64(f, sc + 120));
        Assert.Equal(saved.Rbx, U64(f, sc + 88));
        Assert.Equal(saved.R15, U64(f, sc + 56));
        ulong fp = U64(f, sc + 184);
        Assert.Equal(0UL, fp % 64);
        Assert.True(fp >= uc + 304 && fp + 832 + 4 <= f.ResultSlotAddress);
        Assert.Equal(X64CallAbi.FpXstateMagic1, U32(f, fp + 464));
        Assert.Equal(X64CallAbi.FpXstateMagic2, U32(f, fp + 832));
        Assert.Equal(xstate[100], f.Bytes[(int)(fp + 100 - f.WriteAddress)]);
    }

    [Fact]
    public void CallRegisters_MemoryCapture_ArgumentsStackAndCaptureBase()
    {
        UserRegs saved = SampleRegs(0x7ffd_0000_8000);
        X64CallFrame f = X64CallAbi.BuildFrame(saved, SampleXstate(1024), 0, 64, s_memoryPath);
        UserRegs r = X64CallAbi.CallRegisters(saved, f, s_memoryPath, 0x401234, [1, 2, 3, 4, 5, 6]);
        Assert.Equal(0x401234UL, r.Rip);
        Assert.Equal(f.EntryRsp, r.Rsp);
        Assert.Equal([1UL, 2, 3, 4, 5, 6], new[] { r.Rdi, r.Rsi, r.Rdx, r.Rcx, r.R8, r.R9 });
        Assert.Equal(0UL, r.Rax);
        Assert.Equal(ulong.MaxValue, r.OrigRax);
        Assert.Equal(0UL, r.Eflags & 0x400);
        Assert.Equal(f.ResultSlotAddress, r.Rbx + 0x18); // mov %rax,0x18(%rbx) lands in the slot
        Assert.Throws<ArgumentException>(() => X64CallAbi.CallRegisters(saved, f, s_memoryPath, 0, new ulong[7]));
    }

    [Fact]
    public void IsReturnStopAndReturnValue_RestorerEntryOnThisFrame_Recognised()
    {
        UserRegs saved = SampleRegs(0x7ffd_0000_8000);
        X64CallFrame f = X64CallAbi.BuildFrame(saved, SampleXstate(832), 0, 0, s_registerPath);
        UserRegs stop = saved;
        stop.OrigRax = 15;
        stop.Rip = s_registerPath.Restorer + 9;
        stop.Rsp = f.ReturnRsp;
        stop.Rdi = 0xdead;
        Assert.True(X64CallAbi.IsReturnStop(stop, f, s_registerPath));
        Assert.Equal(0xdeadUL, X64CallAbi.ReturnValue(stop, s_registerPath, new byte[8]));
        UserRegs nested = stop;
        nested.Rsp -= 0x400; // a signal handler's rt_sigreturn during the call
        Assert.False(X64CallAbi.IsReturnStop(nested, f, s_registerPath));
        byte[] slot = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(slot, 42);
        Assert.Equal(42UL, X64CallAbi.ReturnValue(stop, s_memoryPath, slot));
    }

    [Fact]
    public void XstateImageSize_SoftwareBytes_UsesKernelSizeElseWholeImage()
    {
        Assert.Equal(832, X64CallAbi.XstateImageSize(SampleXstate(832)));
        byte[] plain = new byte[1024];
        Assert.Equal(1024, X64CallAbi.XstateImageSize(plain));
        Assert.Throws<ArgumentException>(() => X64CallAbi.XstateImageSize(new byte[100]));
    }

    private static UserRegs SampleRegs(ulong rsp)
    {
        UserRegs r = default;
        r.Rsp = rsp;
        r.Rip = 0x7f00_0001_0002;
        r.OrigRax = 202;
        r.Rax = unchecked((ulong)-512L);
        r.Rbx = 0x1111;
        r.R15 = 0xf15;
        r.Cs = 0x33;
        r.Ss = 0x2b;
        r.Eflags = 0x246;
        return r;
    }

    private static byte[] SampleXstate(int size)
    {
        byte[] x = new byte[size];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (byte)(i * 13);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(464), X64CallAbi.FpXstateMagic1);
        BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(468), (uint)size + 4);
        BinaryPrimitives.WriteUInt64LittleEndian(x.AsSpan(472), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(480), (uint)size);
        return x;
    }

    private static ulong U64(X64CallFrame f, ulong address) =>
        BinaryPrimitives.ReadUInt64LittleEndian(f.Bytes.AsSpan((int)(address - f.WriteAddress)));

    private static uint U32(X64CallFrame f, ulong address) =>
        BinaryPrimitives.ReadUInt32LittleEndian(f.Bytes.AsSpan((int)(address - f.WriteAddress)));
}
