using System.Globalization;
using System.Text;
using System.Text.Json;
using MemWatch.Daemon.Tests.Deploy;

namespace MemWatch.Daemon.Tests.EndToEnd;

/// <summary>
/// What Prometheus's <c>/api/v1/alerts</c> said about one process over a test, poll by poll: the first time each alert
/// was seen pending and firing (on the test's clock, UTC), its <c>activeAt</c> and its value then.
/// </summary>
public sealed class AlertTimeline
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly string _pid;

    public AlertTimeline(int pid)
    {
        _pid = pid.ToString(CultureInfo.InvariantCulture);
    }

    public sealed class Entry
    {
        public DateTimeOffset? FirstPending { get; set; }

        public DateTimeOffset? FirstFiring { get; set; }

        /// <summary>When Prometheus says the alert's expression first held (the start of its <c>for:</c>).</summary>
        public DateTimeOffset? ActiveAt { get; set; }

        /// <summary>The alert's value (the expression's sample) when it was first seen firing, else when last seen pending.</summary>
        public string? Value { get; set; }
    }

    public Entry? this[string alertName] => _entries.GetValueOrDefault(alertName);

    /// <summary>Reads the alerts once; returns the alert names seen firing in this poll for the process.</summary>
    public IReadOnlyList<string> Poll(LoopbackPrometheus prometheus)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var firing = new List<string>();
        foreach (JsonElement alert in prometheus.Alerts().EnumerateArray())
        {
            JsonElement labels = alert.GetProperty("labels");
            if (!labels.TryGetProperty("pid", out JsonElement pid) || pid.GetString() != _pid)
            {
                continue;
            }

            string name = labels.GetProperty("alertname").GetString()!;
            string state = alert.GetProperty("state").GetString()!;
            Entry entry = _entries.TryGetValue(name, out Entry? e) ? e : _entries[name] = new Entry();
            if (alert.TryGetProperty("activeAt", out JsonElement activeAt) && activeAt.ValueKind == JsonValueKind.String)
            {
                entry.ActiveAt ??= DateTimeOffset.Parse(activeAt.GetString()!, CultureInfo.InvariantCulture);
            }

            if (state == "pending")
            {
                entry.FirstPending ??= now;
                entry.Value = alert.GetProperty("value").GetString();
            }
            else if (state == "firing")
            {
                if (entry.FirstFiring is null)
                {
                    entry.FirstFiring = now;
                    entry.Value = alert.GetProperty("value").GetString();
                }

                firing.Add(name);
            }
        }

        return firing;
    }

    public override string ToString()
    {
        if (_entries.Count == 0)
        {
            return "no alert was ever pending or firing for pid " + _pid;
        }

        var text = new StringBuilder();
        foreach ((string name, Entry e) in _entries)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{name}: activeAt {Format(e.ActiveAt)}, first seen pending {Format(e.FirstPending)}, first seen firing {Format(e.FirstFiring)}, value {e.Value}\n");
        }

        return text.ToString();
    }

    public static string Format(DateTimeOffset? time) => time?.ToString("HH:mm:ss.f", CultureInfo.InvariantCulture) ?? "never";
}
