namespace MemWatch.Probes.Injection;

/// <summary>
/// The bytes a remote call puts below the target thread's red zone, and where things are in them.
/// <see cref="Bytes"/> covers [<see cref="WriteAddress"/>, <see cref="WriteAddress"/> + Bytes.Length) and is written in one go.
/// </summary>
/// <param name="WriteAddress">Lowest address of the frame.</param>
/// <param name="Bytes">The frame contents.</param>
/// <param name="EntryRsp">rsp at the callee's first instruction (rsp % 16 == 8); holds the capture address.</param>
/// <param name="ReturnRsp">rsp when the restorer's rt_sigreturn enters the kernel (the ucontext).</param>
/// <param name="SigmaskAddress">uc_sigmask inside the frame.</param>
/// <param name="ResultSlotAddress">8 bytes the memory-form capture stores rax into.</param>
/// <param name="ScratchAddress">The caller's scratch block.</param>
/// <param name="ScratchOffset">Offset of the scratch block in <see cref="Bytes"/>.</param>
internal sealed record X64CallFrame(
    ulong WriteAddress,
    byte[] Bytes,
    ulong EntryRsp,
    ulong ReturnRsp,
    ulong SigmaskAddress,
    ulong ResultSlotAddress,
    ulong ScratchAddress,
    int ScratchOffset);
