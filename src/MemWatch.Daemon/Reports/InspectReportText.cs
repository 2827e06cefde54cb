using System.Globalization;
using System.Text;

namespace MemWatch.Daemon.Reports;

/// <summary>Renders an <see cref="InspectReport"/> for a person at a terminal: totals first, then the region table.</summary>
internal static class InspectReportText
{
    public static string Render(InspectReport r)
    {
        var sb = new StringBuilder();
        CultureInfo inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"pid {r.Pid}  {r.Command}");
        if (r.CommandLine.Length > 0 && r.CommandLine != r.Command)
        {
            sb.Append("  (").Append(Truncate(r.CommandLine, 100)).Append(')');
        }

        sb.AppendLine();
        sb.Append(inv, $"RSS {ByteSize.Format(r.RssBytes)}  PSS {ByteSize.Format(r.PssBytes)}  swap {ByteSize.Format(r.SwapBytes)}");
        sb.Append(inv, $"  anon {ByteSize.Format(r.AnonBytes)}  file {ByteSize.Format(r.FileBytes)}  shmem {ByteSize.Format(r.ShmemBytes)}");
        sb.Append(inv, $"  peak {ByteSize.Format(r.RssPeakBytes)}  threads {r.Threads}").AppendLine();

        sb.Append("allocator ").Append(r.Allocator.Name);
        if (r.Allocator.Library is { } lib)
        {
            sb.Append(" (").Append(lib).Append(')');
        }

        if (r.Allocator.DotNetRuntime)
        {
            sb.Append(" under a .NET runtime");
        }

        sb.Append(inv, $"   glibc arenas {r.Arenas} besides main   mappings {r.Mappings}").AppendLine();

        if (r.Cgroup is { } cg)
        {
            sb.Append(inv, $"cgroup v{cg.Version} {cg.Path}  usage {ByteSize.Format(cg.UsageBytes)}");
            if (cg.LimitBytes is { } limit)
            {
                sb.Append(" of ").Append(ByteSize.Format(limit)).Append(" limit");
                if (cg.UsageBytes is { } usage && limit > 0)
                {
                    sb.Append(inv, $" ({100.0 * usage / limit:0}%)");
                }
            }
            else
            {
                sb.Append(", no limit");
            }

            if (cg.PeakBytes is { } peak)
            {
                sb.Append("  peak ").Append(ByteSize.Format(peak));
            }

            if (cg.OomKills is { } kills)
            {
                sb.Append(inv, $"  OOM kills {kills}");
            }

            if (cg.PressureSomeAvg10 is { } psi)
            {
                sb.Append(inv, $"  pressure {psi:0.00}%");
            }

            sb.AppendLine();
        }

        if (r.OomScore is { } score)
        {
            sb.Append(inv, $"oom_score {score} (adj {r.OomScoreAdj?.ToString(inv) ?? "n/a"})").AppendLine();
        }

        sb.AppendLine();
        sb.AppendLine(string.Format(inv, "{0,-17}{1,6}{2,12}{3,12}{4,12}{5,12}{6,12}", "REGION", "COUNT", "SIZE", "RSS", "PSS", "PRIV DIRTY", "SWAP"));
        foreach (RegionReport g in r.Regions)
        {
            sb.AppendLine(string.Format(
                inv,
                "{0,-17}{1,6}{2,12}{3,12}{4,12}{5,12}{6,12}",
                g.Kind,
                g.Count,
                ByteSize.Format(g.SizeBytes),
                ByteSize.Format(g.RssBytes),
                ByteSize.Format(g.PssBytes),
                ByteSize.Format(g.PrivateDirtyBytes),
                ByteSize.Format(g.SwapBytes)));
        }

        if (r.Growth is { } growth)
        {
            sb.AppendLine();
            sb.Append(inv, $"over {growth.WindowSeconds:0.0} s ({growth.Samples} samples): RSS {ByteSize.Format(growth.RssStartBytes)} -> {ByteSize.Format(growth.RssEndBytes)}");
            sb.Append(inv, $", trend {ByteSize.FormatRate(growth.RssBytesPerSecond)}, max {ByteSize.Format(growth.RssMaxBytes)}").AppendLine();
        }

        if (r.Faults is { MinorPerSecond: { } minor, MajorPerSecond: { } major })
        {
            sb.Append(inv, $"page faults {minor:0.0} minor/s, {major:0.0} major/s").AppendLine();
        }

        if (r.Verdict is { } v)
        {
            sb.AppendLine();
            sb.Append("verdict ").Append(v.Kind);
            if (v.Mechanism is { } mechanism)
            {
                sb.Append(" (").Append(mechanism).Append(')');
            }

            sb.Append(inv, $", confidence {v.Confidence:0.00}{(v.Introspected ? ", introspected" : ", passive")}").AppendLine();
            sb.Append("  ").AppendLine(v.Summary);
            foreach (string e in v.Evidence)
            {
                sb.Append("  - ").AppendLine(e);
            }

            if (v.Recommendations.Count > 0)
            {
                sb.AppendLine("advice:");
                foreach (RecommendationReport a in v.Recommendations)
                {
                    sb.Append("  - ").Append(a.Action).Append(": ").Append(a.ExpectedEffect).AppendLine(a.Live ? " (live, no restart)" : "");
                }
            }

            if (v.WhatWouldSettleIt is { } settle)
            {
                sb.Append("to settle it: ").AppendLine(settle);
            }
        }

        if (r.Forecast is { } f)
        {
            sb.Append("forecast: ").Append(f.Reason).Append(" (confidence ").Append(f.Confidence).AppendLine(")");
        }

        foreach (string w in r.Warnings)
        {
            sb.Append("warning: ").AppendLine(w);
        }

        return sb.ToString();
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..(max - 3)] + "...";
}
