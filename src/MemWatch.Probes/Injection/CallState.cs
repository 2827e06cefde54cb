namespace MemWatch.Probes.Injection;

/// <summary>One call in flight on one thread: what the first stop saw, to be put back whatever happens.</summary>
/// <param name="Tid">The thread.</param>
/// <param name="Saved">Its registers at the first stop (with the stop's own -EINTR undone).</param>
/// <param name="Xstate">Its XSAVE image at the first stop.</param>
/// <param name="Mask">Its blocked-signal set at the first stop.</param>
/// <param name="Function">The callee.</param>
/// <param name="StopRequested">Stopwatch timestamp of the PTRACE_INTERRUPT that began the pause.</param>
/// <param name="Scratch">The caller's scratch block, filled from the target after the call.</param>
internal sealed record CallState(int Tid, UserRegs Saved, byte[] Xstate, ulong Mask, ulong Function, long StopRequested, byte[] Scratch)
{
    /// <summary>Stopwatch timestamp at which the callee was started.</summary>
    public long Resumed { get; set; }
}
