using MemWatch.Probes.Discovery;

namespace MemWatch.Daemon.Configuration;

/// <summary>A validated <see cref="TargetOptions"/>: the compiled selector and what the daemon may do.</summary>
/// <param name="Index">Position in the file; among rules of equal rank the first wins.</param>
internal sealed record TargetRule(
    int Index,
    string Name,
    ProcessSelector Selector,
    bool Introspect,
    bool AllowActions,
    TrimPolicyOptions Trim)
{
    public bool PolicyTrimEnabled => AllowActions && Trim.Enabled;

    /// <summary>Growth attribution for this rule's targets; off unless the rule enables it.</summary>
    public AttributionRuleOptions Attribution { get; init; } = new();
}
