using System.Globalization;

namespace MemWatch.Probes.Verdicts;

/// <summary>Figures as verdict evidence prints them: "1.86 GiB", "97%", "2.5 MiB/s", "10 min".</summary>
internal static class VerdictText
{
    /// <summary>What would settle leak against retention when only the passive figures were read.</summary>
    public const string SettleByIntrospection =
        "introspection (--introspect) would measure the allocator's in-use and free bytes: in-use rising means a leak, free rising with in-use flat means retention";

    public static string Bytes(double bytes)
    {
        double abs = Math.Abs(bytes);
        (double scale, string unit) = abs >= 1 << 30 ? (1 << 30, "GiB") : abs >= 1 << 20 ? (1 << 20, "MiB") : abs >= 1 << 10 ? (1 << 10, "KiB") : (1, "B");
        string format = scale == 1 ? "0" : abs / scale >= 100 ? "0" : abs / scale >= 10 ? "0.#" : "0.##";
        return (bytes / scale).ToString(format, CultureInfo.InvariantCulture) + " " + unit;
    }

    /// <summary>A byte change with its sign: "+12 MiB", "-3 KiB".</summary>
    public static string Signed(double bytes) => (bytes >= 0 ? "+" : "-") + Bytes(Math.Abs(bytes));

    public static string Rate(double bytesPerSecond) => Bytes(bytesPerSecond) + "/s";

    public static string Percent(double fraction) =>
        double.IsFinite(fraction) ? (fraction * 100).ToString("0", CultureInfo.InvariantCulture) + "%" : "n/a";

    public static string Duration(double seconds) => seconds switch
    {
        < 120 => seconds.ToString("0", CultureInfo.InvariantCulture) + " s",
        < 7200 => (seconds / 60).ToString("0.#", CultureInfo.InvariantCulture) + " min",
        < 172800 => (seconds / 3600).ToString("0.#", CultureInfo.InvariantCulture) + " h",
        _ => (seconds / 86400).ToString("0.#", CultureInfo.InvariantCulture) + " d",
    };

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
