using System.Globalization;
using System.Text;

namespace MemWatch.Daemon.Reports;

/// <summary>Renders a <see cref="HistoryReport"/> for a terminal: a sample table, then verdict changes, then the audit entries.</summary>
internal static class HistoryReportText
{
    private const string TimeFormat = "yyyy-MM-dd HH:mm:ss";

    public static string Render(HistoryReport r)
    {
        var sb = new StringBuilder();
        CultureInfo inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"pid {r.Pid}  {r.Command}  starttime {r.StartTimeTicks}").AppendLine();

        sb.AppendLine().Append(inv, $"SAMPLES since {Time(r.Since)} UTC").AppendLine();
        if (r.Samples.Count == 0)
        {
            sb.Append(r.LastSampleAt is { } last ? $"(none; the last was at {Time(last)} UTC)" : "(none)").AppendLine();
        }
        else
        {
            bool allocator = r.Samples.Any(s => s.AllocatorInUseBytes is not null || s.AllocatorFreeBytes is not null);
            sb.Append(inv, $"{"TIME (UTC)",-19}  {"AVG",3}  {"RSS",10}  {"PEAK",10}  {"ANON",10}  {"FILE",10}  {"SWAP",10}  {"MINFLT/S",9}  {"MAJFLT/S",9}");
            if (allocator)
            {
                sb.Append(inv, $"  {"ALLOC IN USE",12}  {"ALLOC FREE",10}");
            }

            sb.AppendLine();
            foreach (HistorySampleReport s in r.Samples)
            {
                string avg = s.ResolutionSeconds switch { 0 => "", 60 => "1m", 3600 => "1h", int n => n + "s" };
                sb.Append(inv, $"{Time(s.At),-19}  {avg,3}  {ByteSize.Format(s.RssBytes),10}  {ByteSize.Format(s.PeakRssBytes),10}");
                sb.Append(inv, $"  {ByteSize.Format(s.AnonBytes),10}  {ByteSize.Format(s.FileBytes),10}  {ByteSize.Format(s.SwapBytes),10}");
                sb.Append(inv, $"  {Rate(s.MinorFaultsPerSecond),9}  {Rate(s.MajorFaultsPerSecond),9}");
                if (allocator)
                {
                    sb.Append(inv, $"  {Bytes(s.AllocatorInUseBytes),12}  {Bytes(s.AllocatorFreeBytes),10}");
                }

                sb.AppendLine();
            }
        }

        sb.AppendLine().AppendLine("VERDICT CHANGES");
        if (r.VerdictChanges.Count == 0)
        {
            sb.AppendLine("(none)");
        }

        foreach (VerdictChangeReport v in r.VerdictChanges)
        {
            sb.Append(inv, $"{Time(v.At)}  {v.Kind}");
            if (v.Mechanism is { Length: > 0 } mechanism)
            {
                sb.Append(" (").Append(mechanism).Append(')');
            }

            sb.Append(inv, $"  confidence {v.Confidence:0.00}  {v.Summary}").AppendLine();
        }

        sb.AppendLine().AppendLine("AUDIT");
        if (r.Audit.Count == 0)
        {
            sb.AppendLine("(none)");
        }

        foreach (AuditEntryReport a in r.Audit)
        {
            sb.Append(inv, $"{Time(a.At)}  {a.Action} {a.Result}  by {a.Actor}");
            if (a.RssBeforeBytes is not null || a.RssAfterBytes is not null)
            {
                sb.Append(inv, $"  RSS {ByteSize.Format(a.RssBeforeBytes)} -> {ByteSize.Format(a.RssAfterBytes)}");
            }

            if (a.ReleasedBytes is { } released)
            {
                sb.Append("  released ").Append(released < 0 ? "-" + ByteSize.Format((ulong)-released) : ByteSize.Format((ulong)released));
            }

            if (a.Detail.Length > 0)
            {
                sb.Append("  ").Append(a.Detail);
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static string Rate(double? perSecond) => perSecond is { } r ? r.ToString(r < 10 ? "0.00" : "0", CultureInfo.InvariantCulture) : "-";

    private static string Bytes(double? bytes) => bytes is { } b && b >= 0 ? ByteSize.Format((ulong)Math.Round(b)) : "-";
}
