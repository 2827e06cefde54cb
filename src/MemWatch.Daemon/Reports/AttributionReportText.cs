using System.Globalization;
using System.Text;

namespace MemWatch.Daemon.Reports;

/// <summary>The text of an attribution: top growth sites with bytes and share, each with its innermost frames.</summary>
internal static class AttributionReportText
{
    private const int FramesShown = 8;

    public static void Append(StringBuilder sb, AttributionReport a)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        sb.AppendLine();
        sb.Append(inv, $"attribution over {a.Seconds:0.0} s: {a.Events} events, {a.Threads} threads, faulted {ByteSize.Format((ulong)Math.Max(0, a.FaultedBytes))}, ");
        sb.Append(inv, $"given back {ByteSize.Format((ulong)Math.Max(0, a.ReleasedBytes))}, anon RSS {(a.RssAnonGrowthBytes >= 0 ? "+" : "-")}{ByteSize.Format((ulong)Math.Abs(a.RssAnonGrowthBytes))}").AppendLine();
        sb.Append("  ").AppendLine(a.Summary);
        int rank = 0;
        foreach (AttributionSiteReport site in a.Sites.Take(10))
        {
            rank++;
            sb.Append(inv, $"#{rank,-2} {ByteSize.Format((ulong)site.Bytes),10}  {site.Share * 100,5:0.0}%").AppendLine();
            foreach (AttributionFrameReport f in site.Frames.Take(FramesShown))
            {
                sb.Append(inv, $"      {f.Function} ({f.Module}+0x{f.Offset:x})").AppendLine();
            }

            if (site.Frames.Count > FramesShown)
            {
                sb.Append(inv, $"      ... {site.Frames.Count - FramesShown} more frames").AppendLine();
            }
        }

        foreach (string note in a.Notes)
        {
            sb.Append("  note: ").AppendLine(note);
        }
    }
}
