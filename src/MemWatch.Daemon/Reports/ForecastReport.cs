namespace MemWatch.Daemon.Reports;

/// <summary>When the process's cgroup (or the host, when unlimited) reaches its memory limit at the observed trend.</summary>
internal sealed record ForecastReport
{
    /// <summary><c>cgroup</c> or <c>host</c>.</summary>
    public required string Scope { get; init; }

    public required double LimitBytes { get; init; }

    /// <summary>Seconds until the limit at the median growth; null when no forecast is given (see <see cref="Outcome"/>).</summary>
    public double? SecondsToLimit { get; init; }

    /// <summary>At the upper end of the growth's 95% interval.</summary>
    public double? EarliestSeconds { get; init; }

    /// <summary>At the lower end; null when that end is not above zero.</summary>
    public double? LatestSeconds { get; init; }

    /// <summary><c>none</c>, <c>low</c>, <c>medium</c> or <c>high</c>.</summary>
    public required string Confidence { get; init; }

    /// <summary>
    /// <c>forecast</c>, or why there is none: <c>at-limit</c>, <c>no-limit</c>, <c>window-too-short</c>, <c>not-growing</c>,
    /// <c>trend-uncertain</c>, <c>growth-stopped</c>, <c>below-utilisation-floor</c>.
    /// </summary>
    public required string Outcome { get; init; }

    /// <summary>One sentence: the figure and what it rests on, or why there is none.</summary>
    public required string Reason { get; init; }

    /// <summary>The limit the process declares for itself (-Xmx, GOMEMLIMIT, memcached -m...), when it has one.</summary>
    public DeclaredLimitReport? DeclaredLimit { get; init; }

    /// <summary>Seconds to <see cref="DeclaredLimit"/> at the RSS trend; null when not growing toward it.</summary>
    public double? SecondsToDeclaredLimit { get; init; }

    /// <summary>Which limit comes first at the trend: <c>declared</c>, or <see cref="Scope"/>'s; null without a declared limit.</summary>
    public string? FirstLimit { get; init; }
}
