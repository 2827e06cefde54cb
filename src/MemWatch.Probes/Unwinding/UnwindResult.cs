namespace MemWatch.Probes.Unwinding;

/// <summary>The frames of one unwind, innermost first, and why it ended (<see cref="Detail"/> says where, when it did not reach the outermost frame).</summary>
public sealed record UnwindResult(IReadOnlyList<UnwindFrame> Frames, UnwindEndReason EndReason, string? Detail)
{
    public bool IsComplete => EndReason == UnwindEndReason.Outermost;

    public override string ToString() => $"{Frames.Count} frames, {EndReason}{(Detail is null ? "" : ": " + Detail)}";
}
