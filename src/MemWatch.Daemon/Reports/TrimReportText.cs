using System.Globalization;
using System.Text;

namespace MemWatch.Daemon.Reports;

/// <summary>Renders a <see cref="TrimReport"/> for a person: what the allocator said, RSS before and after, and the pauses.</summary>
internal static class TrimReportText
{
    public static string Render(TrimReport r)
    {
        var sb = new StringBuilder();
        CultureInfo inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"pid {r.Pid}  {r.Command}  allocator {r.Allocator}  thread {r.Tid}").AppendLine();
        AppendFigures(sb, "before", r.Before);
        sb.Append(inv, $"trim     {r.Result}: {r.Message}").AppendLine();
        sb.Append(inv, $"RSS      {ByteSize.Format(r.RssBeforeBytes)} -> {ByteSize.Format(r.RssAfterBytes)}");
        if (r.ReleasedBytes is { } released)
        {
            sb.Append(released >= 0
                ? $": released {ByteSize.Format((ulong)released)}"
                : $": grew by {ByteSize.Format((ulong)(-released))} meanwhile");
        }

        if (r.PredictedReleasableBytes is { } predicted)
        {
            sb.Append(" (predicted ").Append(ByteSize.Format(predicted)).Append(')');
        }

        sb.AppendLine();
        AppendFigures(sb, "after", r.After);
        foreach (RemoteCallStep s in r.Steps)
        {
            sb.Append(inv, $"pause    {s.Step}: {s.Calls} call{(s.Calls == 1 ? "" : "s")}, longest {s.PauseMicroseconds} µs");
            if (s.Calls > 1)
            {
                sb.Append(inv, $", total {s.PauseMicrosecondsTotal} µs");
            }

            if (s.CalleeMicroseconds is { } callee)
            {
                sb.Append(inv, $" (the callee ran {callee} µs of it)");
            }

            sb.AppendLine();
        }

        foreach (string w in r.Warnings)
        {
            sb.Append("warning: ").AppendLine(w);
        }

        return sb.ToString();
    }

    private static void AppendFigures(StringBuilder sb, string label, AllocatorFigures? f)
    {
        sb.Append(label.PadRight(9));
        if (f is null)
        {
            sb.AppendLine("n/a");
            return;
        }

        sb.Append("in use ").Append(ByteSize.Format(f.InUseBytes))
          .Append("  free ").Append(ByteSize.Format(f.FreeBytes))
          .Append("  releasable ").Append(ByteSize.Format(f.ReleasableBytes))
          .Append("  from system ").Append(ByteSize.Format(f.SystemBytes));
        if (f.Arenas is { } arenas)
        {
            sb.Append("  arenas ").Append(arenas.ToString(CultureInfo.InvariantCulture));
        }

        sb.AppendLine();
    }
}
