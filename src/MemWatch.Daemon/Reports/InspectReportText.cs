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
        AppendIntrospection(sb, r.Allocator);

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

        if (r.Dotnet is { } dn)
        {
            sb.Append(inv, $".NET GC heap {ByteSize.Format(dn.GcHeapBytes)}  committed {ByteSize.Format(dn.GcCommittedBytes)}");
            sb.Append(inv, $"  gen0 {ByteSize.Format(dn.Gen0Bytes)} gen1 {ByteSize.Format(dn.Gen1Bytes)} gen2 {ByteSize.Format(dn.Gen2Bytes)}");
            sb.Append(inv, $" loh {ByteSize.Format(dn.LohBytes)} poh {ByteSize.Format(dn.PohBytes)}  fragmentation {ByteSize.Format(dn.FragmentationBytes)}");
            sb.Append(inv, $"  since last GC {ByteSize.Format(dn.AllocatedSinceLastGcBytes)}");
            if (dn.AllocationRateBytesPerSecond is { } rate)
            {
                sb.Append("  alloc ").Append(ByteSize.FormatRate(rate));
            }

            sb.AppendLine();
            DotNetSplitReport s = dn.Split;
            sb.Append(inv, $".NET split: managed heap {ByteSize.Format(s.ManagedHeapBytes)}  GC committed free {ByteSize.Format(s.GcCommittedFreeBytes)}");
            sb.Append(inv, $"  runtime native {ByteSize.Format(s.RuntimeNativeBytes)}  other native {ByteSize.Format(s.OtherNativeBytes)}").AppendLine();
        }

        if (r.Runtime is { } rt)
        {
            AppendRuntime(sb, rt);
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

        if (r.Attribution is { } attribution)
        {
            AttributionReportText.Append(sb, attribution);
        }

        foreach (string w in r.Warnings)
        {
            sb.Append("warning: ").AppendLine(w);
        }

        return sb.ToString();
    }

    /// <summary>The --introspect line: what the allocator said, or why it could not be asked.</summary>
    private static void AppendIntrospection(StringBuilder sb, AllocatorReport a)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        if (a.IntrospectionError is { } error)
        {
            sb.Append(inv, $"allocator not asked ({a.IntrospectionFailure}): {error}").AppendLine();
        }
        else if (a.Source is { } source)
        {
            sb.Append(inv, $"allocator says ({source}, longest pause {a.PauseMicroseconds} µs over {a.RemoteCalls} calls): in use {ByteSize.Format(a.InUseBytes)}");
            sb.Append(inv, $"  free {ByteSize.Format(a.FreeBytes)}  releasable {ByteSize.Format(a.ReleasableBytes)}  from system {ByteSize.Format(a.SystemBytes)}");
            if (a.Arenas is { } arenas)
            {
                sb.Append(inv, $"  arenas {arenas}");
            }

            sb.AppendLine();
        }
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..(max - 3)] + "...";

    private static void AppendRuntime(StringBuilder sb, RuntimeReport rt)
    {
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"runtime {rt.Name}{(rt.Version is { } v ? " " + v : "")}");
        if (rt.Source is { } source)
        {
            sb.Append(inv, $" ({source}): used {ByteSize.Format(rt.UsedBytes)}  committed {ByteSize.Format(rt.CommittedBytes)}  free {ByteSize.Format(rt.FreeBytes)}");
            if (rt.MaxBytes is { } max)
            {
                sb.Append(inv, $"  max {ByteSize.Format(max)}");
            }

            if (rt.PhysicalBytes is { } physical)
            {
                sb.Append(inv, $"  resident {ByteSize.Format(physical)}");
            }

            if (rt.Arenas is { } arenas)
            {
                sb.Append(inv, $"  arenas {arenas}  pools in use {rt.PoolsInUse} ({ByteSize.Format(rt.PoolsInUseBytes)})  empty pools {rt.PoolsFree}");
            }

            if (rt.ReleasedBytes is { } released)
            {
                sb.Append(inv, $"  idle {ByteSize.Format(rt.IdleBytes)}  released {ByteSize.Format(released)}");
            }
        }

        sb.AppendLine();
        foreach (RuntimeSpaceReport s in rt.Spaces)
        {
            sb.Append(inv, $"  {s.Name}: used {ByteSize.Format(s.UsedBytes)}  committed {ByteSize.Format(s.CommittedBytes)}{(s.MaxBytes is { } m ? "  max " + ByteSize.Format(m) : "")}{(s.PhysicalBytes is { } p ? "  resident " + ByteSize.Format(p) : "")}").AppendLine();
        }

        if (rt.DeclaredLimit is { } limit)
        {
            sb.Append(inv, $"  declared limit {ByteSize.Format(limit.Bytes)} ({limit.Source}, bounds the {limit.Bounds})").AppendLine();
        }

        if (rt.Problem is { } problem)
        {
            sb.Append("  ").AppendLine(problem);
        }
    }
}
