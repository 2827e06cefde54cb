namespace MemWatch.Probes.Verdicts;

/// <summary>How much of what one release (malloc_trim and the like) returned to the system has come back since.</summary>
/// <param name="ReleasedAtMilliseconds">Timestamp of the first sample after the release (the sample clock).</param>
/// <param name="ReleasedBytes">RSS just before minus RSS just after the release; 0 when RSS did not fall.</param>
/// <param name="RefaultedBytes">RSS now minus RSS just after the release, at most <paramref name="ReleasedBytes"/>.</param>
/// <param name="RefaultedFraction">RefaultedBytes / ReleasedBytes; 0 when nothing was released.</param>
/// <param name="SecondsToHalfRefaulted">Seconds after the release when RSS first regained half of the released bytes; null if it has not.</param>
/// <param name="MinorFaultsSince">Minor faults since the release: pages touched again (a refault shows here before RSS settles).</param>
/// <param name="ObservedSeconds">How long the process has been followed since the release.</param>
public sealed record TrimEfficacy(
    long ReleasedAtMilliseconds,
    ulong ReleasedBytes,
    ulong RefaultedBytes,
    double RefaultedFraction,
    double? SecondsToHalfRefaulted,
    ulong MinorFaultsSince,
    double ObservedSeconds)
{
    /// <summary>True when at least <paramref name="fraction"/> of a non-trivial release came back.</summary>
    public bool IsRefaulted(double fraction, ulong minimumReleasedBytes) =>
        ReleasedBytes >= minimumReleasedBytes && RefaultedFraction >= fraction;
}
