using MemWatch.Daemon.History;

namespace MemWatch.Daemon.Reports;

/// <summary>Turns what the history store returns into a <see cref="HistoryReport"/>, adding fault rates between rows.</summary>
internal static class HistoryReportBuilder
{
    public static HistoryReport Build(
        int pid,
        ulong startTimeTicks,
        string command,
        DateTimeOffset since,
        DateTimeOffset? lastSampleAt,
        IReadOnlyList<HistorySample> samples,
        IReadOnlyList<VerdictChange> verdictChanges,
        IReadOnlyList<AuditEntry> audit)
    {
        var rows = new List<HistorySampleReport>(samples.Count);
        HistorySample? previous = null;
        foreach (HistorySample s in samples)
        {
            double seconds = previous is null ? 0 : (s.At - previous.At).TotalSeconds;
            rows.Add(new HistorySampleReport
            {
                At = s.At,
                ResolutionSeconds = (int)s.Resolution.TotalSeconds,
                RssBytes = s.RssBytes,
                PeakRssBytes = s.PeakRssBytes ?? s.RssBytes,
                AnonBytes = s.AnonBytes,
                FileBytes = s.FileBytes,
                ShmemBytes = s.ShmemBytes,
                SwapBytes = s.SwapBytes,
                MinorFaults = s.MinorFaults,
                MajorFaults = s.MajorFaults,
                MinorFaultsPerSecond = Rate(previous?.MinorFaults, s.MinorFaults, seconds),
                MajorFaultsPerSecond = Rate(previous?.MajorFaults, s.MajorFaults, seconds),
                AllocatorInUseBytes = double.IsNaN(s.AllocatorInUseBytes) ? null : s.AllocatorInUseBytes,
                AllocatorFreeBytes = double.IsNaN(s.AllocatorFreeBytes) ? null : s.AllocatorFreeBytes,
            });
            previous = s;
        }

        return new HistoryReport
        {
            Pid = pid,
            StartTimeTicks = startTimeTicks,
            Command = command,
            Since = since,
            LastSampleAt = lastSampleAt,
            Samples = rows,
            VerdictChanges = [.. verdictChanges.Select(v => new VerdictChangeReport
            {
                At = v.At,
                Kind = v.Kind,
                Mechanism = v.Mechanism,
                Confidence = v.Confidence,
                Summary = v.Summary,
            })],
            Audit = [.. audit.Select(a => new AuditEntryReport
            {
                At = a.At,
                Actor = a.Actor,
                Action = a.Action,
                Result = a.Result,
                RssBeforeBytes = a.RssBeforeBytes,
                RssAfterBytes = a.RssAfterBytes,
                ReleasedBytes = a.ReleasedBytes,
                Detail = a.Detail,
            })],
        };
    }

    /// <summary>Counter increase per second; null for the first row or when the counter went backwards.</summary>
    private static double? Rate(ulong? previous, ulong current, double seconds) =>
        previous is { } p && current >= p && seconds > 0 ? (current - p) / seconds : null;
}
