namespace MemWatch.Daemon.Reports;

/// <summary>A stored change of verdict.</summary>
internal sealed record VerdictChangeReport
{
    public required DateTimeOffset At { get; init; }

    public required string Kind { get; init; }

    public required string? Mechanism { get; init; }

    public required double Confidence { get; init; }

    public required string Summary { get; init; }
}
