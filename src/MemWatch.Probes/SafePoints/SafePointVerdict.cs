using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.SafePoints;

/// <summary>
/// The answer of <see cref="SafePointRule.Check"/>: safe, or unsafe with the reason, the critical region (when one
/// made it unsafe) and the frame that lies in it. <see cref="Unwind"/> is null when the stack check refused first.
/// The one verdict type of the remote-call engine: it starts a call, or rolls one back, only on a safe verdict.
/// </summary>
public sealed record SafePointVerdict(
    bool IsSafe,
    string Reason,
    CriticalRegion? Region,
    UnwindFrame? Frame,
    int FrameIndex,
    ThreadStack Stack,
    UnwindResult? Unwind,
    IReadOnlyList<LockWord> Locks)
{
    /// <summary>Unsafe before anything about the thread's stack was learnt.</summary>
    public static SafePointVerdict Unsafe(string reason) => new(false, reason, null, null, -1, ThreadStack.Unrecognised(reason), null, []);

    public override string ToString() => (IsSafe ? "safe: " : "unsafe: ") + Reason;
}
