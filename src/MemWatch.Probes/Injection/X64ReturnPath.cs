namespace MemWatch.Probes.Injection;

/// <summary>
/// Where an x86_64 remote call returns to, so that the thread restores itself even with no tracer left.
/// The callee returns into <see cref="Capture"/>, a short instruction sequence of the target's own code that
/// copies rax into a register or into memory addressed by a callee-saved register and then returns; that
/// <c>ret</c> enters <see cref="Restorer"/> (libc's <c>__restore_rt</c>: <c>mov $15,%rax; syscall</c>), whose
/// rt_sigreturn reloads the registers, signal mask and FPU state saved in the frame below it.
/// </summary>
/// <param name="Restorer">Address of the 9-byte restorer sequence.</param>
/// <param name="Capture">Address of the capture sequence.</param>
/// <param name="CaptureStackBytes">Bytes the capture sequence pops (pop, add $n,%rsp) before its ret.</param>
/// <param name="Register">x86 register number (0 rax .. 15 r15): the destination (register form) or the base (memory form).</param>
/// <param name="StoresToMemory">True for <c>mov %rax,disp(%reg)</c>, false for <c>mov %rax,%reg</c>.</param>
/// <param name="Displacement">The memory form's displacement.</param>
internal readonly record struct X64ReturnPath(
    ulong Restorer,
    ulong Capture,
    int CaptureStackBytes,
    int Register,
    bool StoresToMemory,
    int Displacement)
{
    public override string ToString() =>
        $"restorer 0x{Restorer:x}, capture 0x{Capture:x} (mov %rax,{(StoresToMemory ? $"{Displacement}(r{Register})" : $"r{Register}")}, {CaptureStackBytes} bytes popped)";
}
