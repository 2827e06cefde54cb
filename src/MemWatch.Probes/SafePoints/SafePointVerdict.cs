using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.SafePoints;

/// <summary>
/// The answer of <see cref="SafePointRule.Check"/>: safe, or unsafe with the reason, the critical region (when one
/// made it unsafe) and the frame that lies in it. <see cref="Unwind"/> is null when the stack check refused first.
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
    public override string ToString() => (IsSafe ? "safe: " : "unsafe: ") + Reason;
}
