namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Growth attribution for a rule's targets (docs/attribution.md): <c>Enabled</c> allows captures through
/// <c>POST /api/targets/PID/attribute</c>; <c>OnVerdict</c> also starts one of <c>Seconds</c> by itself when a target's
/// verdict becomes <c>leak</c> or <c>unexplained-growth</c>, at most once per <c>MinInterval</c> per target. Off by default:
/// a capture costs the target a little CPU per page fault, and the daemon needs CAP_PERFMON.
/// </summary>
internal sealed class AttributionRuleOptions
{
    public bool Enabled { get; set; }

    public bool OnVerdict { get; set; }

    /// <value>The default is 20 seconds; 1 to 120.</value>
    public double Seconds { get; set; } = 20;

    /// <value>The default is one hour; at least one minute.</value>
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromHours(1);
}
