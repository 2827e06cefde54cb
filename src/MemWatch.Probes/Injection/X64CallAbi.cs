using System.Buffers.Binary;

namespace MemWatch.Probes.Injection;

/// <summary>
/// Everything x86_64-specific about a remote call: the System V calling convention (x86-64 psABI 3.2), the
/// 128-byte red zone, syscall restart semantics (arch/x86/kernel/signal.c) and the rt_sigframe that lets the thread
/// restore itself through rt_sigreturn (arch/x86/kernel/signal_64.c, fpu/signal.c). An aarch64 port adds a sibling type.
/// </summary>
internal static class X64CallAbi
{
    public const int RedZoneBytes = 128;
    public const int MaxArguments = 6;
    public const long SysRtSigreturn = 15;
    public const int RestorerLength = 9;

    // Syscall restart codes (include/linux/errno.h).
    public const long ERestartSys = -512;
    public const long ERestartNoIntr = -513;
    public const long ERestartNoHand = -514;
    public const long ERestartRestartBlock = -516;

    // struct ucontext, asm/ucontext.h (uc_sigmask is the kernel's 8-byte sigset_t).
    public const int UcFlagsOffset = 0;
    public const int UcLinkOffset = 8;
    public const int UcStackOffset = 16;
    public const int UcMcontextOffset = 40;
    public const int UcSigmaskOffset = 296;
    public const int UcontextSize = 304;

    // UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS: the flags the kernel itself sets on x86_64 frames.
    public const ulong UcFlags = 0x1 | 0x2 | 0x4;

    // struct sigcontext, asm/sigcontext.h (64-bit).
    public const int ScR8 = 0;
    public const int ScR9 = 8;
    public const int ScR10 = 16;
    public const int ScR11 = 24;
    public const int ScR12 = 32;
    public const int ScR13 = 40;
    public const int ScR14 = 48;
    public const int ScR15 = 56;
    public const int ScRdi = 64;
    public const int ScRsi = 72;
    public const int ScRbp = 80;
    public const int ScRbx = 88;
    public const int ScRdx = 96;
    public const int ScRax = 104;
    public const int ScRcx = 112;
    public const int ScRsp = 120;
    public const int ScRip = 128;
    public const int ScEflags = 136;
    public const int ScCs = 144;
    public const int ScGs = 146;
    public const int ScFs = 148;
    public const int ScSs = 150;
    public const int ScFpstate = 184;
    public const int SigcontextSize = 256;

    // XSAVE area: struct _fpx_sw_bytes in fxregs_state.sw_reserved, and the xsave header.
    public const int SwBytesOffset = 464;
    public const int XstateHeaderOffset = 512;
    public const int MinXstateSize = 512 + 64;
    public const uint FpXstateMagic1 = 0x46505853;
    public const uint FpXstateMagic2 = 0x46505845;

    /// <summary>
    /// The registers that resume the interrupted code with its system call re-issued, as the kernel would on a resume
    /// without a handler: rip back over the 2-byte syscall, rax = the syscall number, orig_rax = -1 (rt_sigreturn sets it
    /// so anyway). -ERESTART_RESTARTBLOCK re-issues the original call too, not restart_syscall: rt_sigreturn resets the
    /// restart block (see <see cref="SyscallRestart"/>). The frame holds these, for a MemWatch that dies mid-call.
    /// </summary>
    public static UserRegs WithRestartApplied(in UserRegs saved)
    {
        UserRegs r = saved;
        if (SyscallRestart.IsInterruptedSyscall(saved))
        {
            r.Rip -= 2;
            r.Rax = saved.OrigRax;
        }

        r.OrigRax = ulong.MaxValue;
        return r;
    }

    /// <summary>
    /// Lays out, from the top down below the red zone: the scratch block, the result slot, the 64-byte aligned
    /// XSAVE image (with the FP_XSTATE magics), the ucontext, the restorer address (pretcode), the bytes the
    /// capture sequence pops, and at the callee's entry rsp the capture address.
    /// </summary>
    public static X64CallFrame BuildFrame(in UserRegs saved, ReadOnlySpan<byte> xstate, ulong blockedSignals, int scratchLength, in X64ReturnPath path)
    {
        int xstateSize = XstateImageSize(xstate);
        ulong top = saved.Rsp - RedZoneBytes;
        ulong scratch = (top - (ulong)scratchLength) & ~15UL;
        ulong slot = scratch - 16;
        ulong fpstate = (slot - (ulong)(xstateSize + 4)) & ~63UL;
        ulong entry = ((fpstate - UcontextSize - 16 - (ulong)path.CaptureStackBytes) & ~15UL) - 8;
        ulong pretcode = entry + 8 + (ulong)path.CaptureStackBytes;
        ulong uc = pretcode + 8;

        byte[] bytes = new byte[checked((int)(scratch + (ulong)scratchLength - entry))];
        Span<byte> b = bytes;
        Put(b, entry, entry, path.Capture);
        Put(b, entry, pretcode, path.Restorer);

        Span<byte> ucontext = b.Slice((int)(uc - entry), UcontextSize);
        BinaryPrimitives.WriteUInt64LittleEndian(ucontext[UcFlagsOffset..], UcFlags);

        // uc_link 0; uc_stack all zero: restore_altstack() then fails with ENOMEM (size 0) and is ignored,
        // so the thread's sigaltstack is left as it is.
        WriteSigcontext(ucontext.Slice(UcMcontextOffset, SigcontextSize), WithRestartApplied(saved), fpstate);
        BinaryPrimitives.WriteUInt64LittleEndian(ucontext[UcSigmaskOffset..], blockedSignals);

        Span<byte> fp = b.Slice((int)(fpstate - entry), xstateSize + 4);
        xstate[..xstateSize].CopyTo(fp);
        if (BinaryPrimitives.ReadUInt32LittleEndian(fp[SwBytesOffset..]) != FpXstateMagic1)
        {
            // The kernel did not fill the software bytes: describe the image ourselves. Features whose
            // XSTATE_BV bit is clear are in their init state, which the restore reproduces.
            BinaryPrimitives.WriteUInt32LittleEndian(fp[SwBytesOffset..], FpXstateMagic1);
            BinaryPrimitives.WriteUInt32LittleEndian(fp[(SwBytesOffset + 4)..], (uint)xstateSize + 4);
            BinaryPrimitives.WriteUInt64LittleEndian(fp[(SwBytesOffset + 8)..], BinaryPrimitives.ReadUInt64LittleEndian(fp[XstateHeaderOffset..]) | 3);
            BinaryPrimitives.WriteUInt32LittleEndian(fp[(SwBytesOffset + 16)..], (uint)xstateSize);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(fp[xstateSize..], FpXstateMagic2);

        return new X64CallFrame(entry, bytes, entry, uc, uc + UcSigmaskOffset, slot, scratch, (int)(scratch - entry));
    }

    /// <summary>The registers for the call: the saved ones with rip, rsp, arguments, rax = 0 (variadic callees) and orig_rax = -1.</summary>
    public static UserRegs CallRegisters(in UserRegs saved, X64CallFrame frame, in X64ReturnPath path, ulong function, ReadOnlySpan<ulong> args)
    {
        if (args.Length > MaxArguments)
        {
            throw new ArgumentException($"at most {MaxArguments} integer arguments are passed in registers", nameof(args));
        }

        UserRegs r = saved;
        r.Rip = function;
        r.Rsp = frame.EntryRsp;
        r.Rax = 0;
        r.OrigRax = ulong.MaxValue;
        r.Eflags &= ~(0x400UL | 0x100UL); // DF must be clear at a call; no single-step
        for (int i = 0; i < args.Length; i++)
        {
            SetArgument(ref r, i, args[i]);
        }

        if (path.StoresToMemory)
        {
            SetRegister(ref r, path.Register, frame.ResultSlotAddress - unchecked((ulong)(long)path.Displacement));
        }

        return r;
    }

    /// <summary>A syscall-entry stop of the restorer's rt_sigreturn on exactly this frame: the callee has returned.</summary>
    public static bool IsReturnStop(in UserRegs regs, X64CallFrame frame, in X64ReturnPath path) =>
        regs.OrigRax == SysRtSigreturn && regs.Rip == path.Restorer + RestorerLength && regs.Rsp == frame.ReturnRsp;

    /// <summary>The callee's rax, captured in a register or in the result slot (<paramref name="slot"/>: its 8 bytes).</summary>
    public static ulong ReturnValue(in UserRegs regs, in X64ReturnPath path, ReadOnlySpan<byte> slot) =>
        path.StoresToMemory ? BinaryPrimitives.ReadUInt64LittleEndian(slot) : GetRegister(regs, path.Register);

    /// <summary>
    /// Bytes of the XSAVE image to put in the frame: the software bytes' xstate_size when the kernel filled them
    /// (the size it accepts back at sigreturn), else the whole regset.
    /// </summary>
    public static int XstateImageSize(ReadOnlySpan<byte> xstate)
    {
        if (xstate.Length < MinXstateSize)
        {
            throw new ArgumentException($"XSAVE image of {xstate.Length} bytes is shorter than {MinXstateSize}", nameof(xstate));
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(xstate[SwBytesOffset..]) == FpXstateMagic1)
        {
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(xstate[(SwBytesOffset + 16)..]);
            if (size >= MinXstateSize && size <= xstate.Length)
            {
                return (int)size;
            }
        }

        return xstate.Length;
    }

    private static void WriteSigcontext(Span<byte> sc, in UserRegs r, ulong fpstate)
    {
        W(sc, ScR8, r.R8);
        W(sc, ScR9, r.R9);
        W(sc, ScR10, r.R10);
        W(sc, ScR11, r.R11);
        W(sc, ScR12, r.R12);
        W(sc, ScR13, r.R13);
        W(sc, ScR14, r.R14);
        W(sc, ScR15, r.R15);
        W(sc, ScRdi, r.Rdi);
        W(sc, ScRsi, r.Rsi);
        W(sc, ScRbp, r.Rbp);
        W(sc, ScRbx, r.Rbx);
        W(sc, ScRdx, r.Rdx);
        W(sc, ScRax, r.Rax);
        W(sc, ScRcx, r.Rcx);
        W(sc, ScRsp, r.Rsp);
        W(sc, ScRip, r.Rip);
        W(sc, ScEflags, r.Eflags);
        BinaryPrimitives.WriteUInt16LittleEndian(sc[ScCs..], (ushort)r.Cs);
        BinaryPrimitives.WriteUInt16LittleEndian(sc[ScGs..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(sc[ScFs..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(sc[ScSs..], (ushort)r.Ss);
        W(sc, ScFpstate, fpstate);

        static void W(Span<byte> s, int offset, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(s[offset..], v);
    }

    private static void Put(Span<byte> frame, ulong frameStart, ulong address, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(frame[(int)(address - frameStart)..], value);

    private static void SetArgument(ref UserRegs r, int index, ulong value)
    {
        switch (index)
        {
            case 0: r.Rdi = value; break;
            case 1: r.Rsi = value; break;
            case 2: r.Rdx = value; break;
            case 3: r.Rcx = value; break;
            case 4: r.R8 = value; break;
            default: r.R9 = value; break;
        }
    }

    /// <summary>Register by x86 encoding number: 0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8..15 r8..r15.</summary>
    public static ulong GetRegister(in UserRegs r, int number) => number switch
    {
        0 => r.Rax,
        1 => r.Rcx,
        2 => r.Rdx,
        3 => r.Rbx,
        4 => r.Rsp,
        5 => r.Rbp,
        6 => r.Rsi,
        7 => r.Rdi,
        8 => r.R8,
        9 => r.R9,
        10 => r.R10,
        11 => r.R11,
        12 => r.R12,
        13 => r.R13,
        14 => r.R14,
        15 => r.R15,
        _ => throw new ArgumentOutOfRangeException(nameof(number)),
    };

    public static void SetRegister(ref UserRegs r, int number, ulong value)
    {
        switch (number)
        {
            case 0: r.Rax = value; break;
            case 1: r.Rcx = value; break;
            case 2: r.Rdx = value; break;
            case 3: r.Rbx = value; break;
            case 4: r.Rsp = value; break;
            case 5: r.Rbp = value; break;
            case 6: r.Rsi = value; break;
            case 7: r.Rdi = value; break;
            case 8: r.R8 = value; break;
            case 9: r.R9 = value; break;
            case 10: r.R10 = value; break;
            case 11: r.R11 = value; break;
            case 12: r.R12 = value; break;
            case 13: r.R13 = value; break;
            case 14: r.R14 = value; break;
            case 15: r.R15 = value; break;
            default: throw new ArgumentOutOfRangeException(nameof(number));
        }
    }
}
