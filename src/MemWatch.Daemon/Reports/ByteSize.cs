using System.Globalization;

namespace MemWatch.Daemon.Reports;

/// <summary>Human-readable byte counts in binary units (KiB, MiB, GiB), as people read them in reports.</summary>
internal static class ByteSize
{
    private static readonly string[] s_units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Format(ulong bytes)
    {
        if (bytes < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }

        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < s_units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString(value < 10 ? "0.00" : value < 100 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + s_units[unit];
    }

    public static string Format(ulong? bytes) => bytes is { } b ? Format(b) : "n/a";

    /// <summary>A signed rate such as "+1.2 MiB/s" or "-300 KiB/s".</summary>
    public static string FormatRate(double bytesPerSecond)
    {
        string sign = bytesPerSecond < 0 ? "-" : "+";
        return sign + Format((ulong)Math.Abs(Math.Round(bytesPerSecond))) + "/s";
    }
}
