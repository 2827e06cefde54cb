namespace MemWatch.Probes.Injection;

/// <summary>An <see cref="ISafePointRule"/>'s answer: safe, or why not (including "cannot be proven").</summary>
internal readonly record struct SafePointVerdict(bool IsSafe, string? Reason)
{
    public static SafePointVerdict Safe => new(true, null);

    public static SafePointVerdict Unsafe(string reason) => new(false, reason);
}
