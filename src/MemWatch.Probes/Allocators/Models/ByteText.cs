using System.Globalization;

namespace MemWatch.Probes.Allocators.Models;

/// <summary>Short byte sizes for model texts: 128 KiB, 64 MiB.</summary>
internal static class ByteText
{
    public static string Format(ulong bytes) => bytes switch
    {
        >= 1UL << 30 when bytes % (1UL << 30) == 0 => (bytes >> 30).ToString(CultureInfo.InvariantCulture) + " GiB",
        >= 1UL << 20 when bytes % (1UL << 20) == 0 => (bytes >> 20).ToString(CultureInfo.InvariantCulture) + " MiB",
        >= 1UL << 10 when bytes % (1UL << 10) == 0 => (bytes >> 10).ToString(CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
