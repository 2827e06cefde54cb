namespace MemWatch.Probes.Unwinding;

/// <summary>
/// One frame: <see cref="Pc"/> is the instruction pointer (the innermost frame, or a frame interrupted by a signal) or
/// the return address; <see cref="Sp"/> the stack pointer in that frame. <see cref="IsExactPc"/> is true when
/// <see cref="Pc"/> is the instruction itself rather than a return address (symbolise a return address at Pc - 1).
/// </summary>
public readonly record struct UnwindFrame(ulong Pc, ulong Sp, bool IsExactPc)
{
    /// <summary>The address that belongs to the frame's call site: Pc for an exact pc, Pc - 1 for a return address.</summary>
    public ulong LookupPc => IsExactPc || Pc == 0 ? Pc : Pc - 1;
}
