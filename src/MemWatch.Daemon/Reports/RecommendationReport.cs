namespace MemWatch.Daemon.Reports;

/// <summary>One piece of advice: the action, what it is expected to return, and whether it acts on the live process.</summary>
internal sealed record RecommendationReport
{
    public required string Action { get; init; }

    public required string ExpectedEffect { get; init; }

    /// <summary>True for a call into the running process (e.g. a trim); false when it needs a restart or a code change.</summary>
    public required bool Live { get; init; }
}
