using System.Globalization;

namespace MemWatch.Daemon.Tests.Support;

/// <summary>Finds sample values in an exposition by metric name and label fragments.</summary>
public static class MetricsText
{
    /// <summary>The value of the first sample named <paramref name="name"/> whose labels contain every fragment; null if none.</summary>
    public static double? Value(string exposition, string name, params string[] labelFragments)
    {
        foreach (string line in exposition.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }

            string rest = line[name.Length..];
            if (rest.Length == 0 || (rest[0] != '{' && rest[0] != ' '))
            {
                continue;
            }

            if (labelFragments.All(f => rest.Contains(f, StringComparison.Ordinal)))
            {
                string value = rest[(rest.LastIndexOf(' ') + 1)..];
                return double.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }
}
