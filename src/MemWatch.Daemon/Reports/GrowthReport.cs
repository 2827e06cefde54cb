namespace MemWatch.Daemon.Reports;

/// <summary>RSS change over a --watch window.</summary>
internal sealed record GrowthReport
{
    public required double WindowSeconds { get; init; }

    public required int Samples { get; init; }

    public required ulong RssStartBytes { get; init; }

    public required ulong RssEndBytes { get; init; }

    /// <summary>Slope of RSS over the window (least squares over every sample), bytes per second.</summary>
    public required double RssBytesPerSecond { get; init; }

    public required ulong RssMaxBytes { get; init; }
}
