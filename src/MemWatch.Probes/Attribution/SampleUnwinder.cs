using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Attribution;

/// <summary>
/// Turns one sample's registers and copied stack into the call-site addresses of its frames, innermost first, with
/// the <c>.eh_frame</c> CFI unwinder (<see cref="StackUnwinder"/>). In a .NET process, where the CFI walk stops in
/// JIT or ReadyToRun code (no CFI), it follows the frame-pointer chain that code keeps (<c>push rbp; mov rbp, rsp</c>)
/// until a return address lands in code with CFI again, and resumes there. Only the copied stack is read.
/// </summary>
internal sealed class SampleUnwinder(int maxFrames)
{
    private readonly StackUnwinder _cfi = new();
    private readonly UnwindFrame[] _frames = new UnwindFrame[maxFrames];

    /// <summary>Fills <paramref name="pcs"/>; returns true when the walk reached the outermost frame.</summary>
    public bool Unwind(UnwindAddressSpace space, Func<ulong, bool>? isManagedCode, in UnwindRegisters registers, IUnwindMemory memory, List<ulong> pcs)
    {
        pcs.Clear();
        UnwindRegisters regs = registers;
        bool resumedAfterReturn = false;
        while (pcs.Count < _frames.Length)
        {
            UnwindEndReason reason = _cfi.Unwind(space, regs, memory, _frames.AsSpan(0, _frames.Length - pcs.Count), out int count, out _, out UnwindRegisters last);
            for (int i = 0; i < count; i++)
            {
                // A walk resumed at a return address starts with it as an "exact" pc: its call site is one byte before.
                pcs.Add(i == 0 && resumedAfterReturn ? _frames[i].Pc - 1 : _frames[i].LookupPc);
            }

            if (reason == UnwindEndReason.Outermost)
            {
                return true;
            }

            if (reason != UnwindEndReason.NoCfi || count == 0 || isManagedCode is null || !isManagedCode(last.Ip) || !last.TryGet(UnwindRegisters.Rbp, out ulong rbp))
            {
                return false;
            }

            // Frame pointers through managed code: [rbp] is the caller's rbp, [rbp+8] the return address.
            while (true)
            {
                if (pcs.Count >= _frames.Length || !memory.TryReadU64(rbp, out ulong callerRbp) || !memory.TryReadU64(rbp + 8, out ulong ret))
                {
                    return false;
                }

                if (ret == 0)
                {
                    return true;
                }

                ulong callerSp = rbp + 16;
                if (space.Find(ret - 1) is not null)
                {
                    regs = default;
                    regs.Set(UnwindRegisters.Rip, ret);
                    regs.Set(UnwindRegisters.Rsp, callerSp);
                    regs.Set(UnwindRegisters.Rbp, callerRbp);
                    resumedAfterReturn = true;
                    break;
                }

                pcs.Add(ret - 1);
                if (!isManagedCode(ret) || callerRbp <= rbp)
                {
                    return false;
                }

                rbp = callerRbp;
            }
        }

        return false;
    }
}
