using System.Globalization;
using System.Text;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Durations in the configuration: Prometheus style (<c>500ms</c>, <c>5s</c>, <c>10m</c>, <c>1h30m</c>, <c>7d</c>,
/// <c>2w</c>; units y w d h m s ms, largest first, whole numbers) or TimeSpan's <c>[d.]hh:mm:ss[.fff]</c>, as
/// <c>history --since</c> takes them. At most 100 years, so that no later arithmetic on them can overflow.
/// </summary>
internal static class ConfigDuration
{
    public static readonly TimeSpan Max = TimeSpan.FromDays(36525);

    private static readonly (string Unit, long Milliseconds)[] s_units =
    [
        ("y", 365L * 86_400_000), ("w", 7L * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ];

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64)
        {
            return false;
        }

        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero && duration <= Max;
        }

        long total = 0;
        int next = 0;
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start || i - start > 12)
            {
                return false;
            }

            long value = long.Parse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            int unitStart = i;
            while (i < text.Length && char.IsAsciiLetterLower(text[i]))
            {
                i++;
            }

            string unit = text[unitStart..i];
            int index = Array.FindIndex(s_units, next, u => u.Unit == unit);
            if (index < 0)
            {
                // Unknown, repeated or out of order (Prometheus requires largest first).
                return false;
            }

            next = index + 1;
            if (value > Max.TotalMilliseconds / s_units[index].Milliseconds)
            {
                return false;
            }

            total += value * s_units[index].Milliseconds;
            if (total > (long)Max.TotalMilliseconds)
            {
                return false;
            }
        }

        duration = TimeSpan.FromMilliseconds(total);
        return true;
    }

    /// <summary>The shortest Prometheus-style spelling: 90 s is <c>1m30s</c>, zero is <c>0s</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        long ms = (long)duration.TotalMilliseconds;
        if (ms <= 0)
        {
            return "0s";
        }

        var text = new StringBuilder();
        foreach ((string unit, long size) in s_units)
        {
            if (unit is "y" or "w")
            {
                continue;
            }

            if (ms >= size)
            {
                text.Append(CultureInfo.InvariantCulture, $"{ms / size}{unit}");
                ms %= size;
            }
        }

        return text.ToString();
    }
}
