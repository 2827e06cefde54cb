using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// What the binder lets pass silently, checked on the raw configuration before binding: a section given the wrong
/// shape (<c>"Targets": { … }</c> binds to an empty list, so the catch-all rule would run; <c>"Sampling": "5s"</c> binds
/// nothing), and durations in Prometheus style, rewritten to the form TimeSpan binding takes.
/// </summary>
internal static class ConfigurationShape
{
    /// <summary>Sections that must be JSON objects (<c>*</c> stands for a list index).</summary>
    private static readonly string[] s_objects =
    [
        "Auth", "Sampling", "Logging", "Tls", "Targets:*", "Targets:*:Remediation", "Targets:*:Remediation:Trim",
    ];

    /// <summary>Sections that must be JSON arrays.</summary>
    private static readonly string[] s_arrays = ["Targets"];

    /// <summary>
    /// Keys whose value is a duration: every TimeSpan option is named so (a test checks every TimeSpan property of
    /// <see cref="DaemonOptions"/> against this).
    /// </summary>
    public static bool IsDurationKey(string lastSegment) =>
        lastSegment.EndsWith("Interval", StringComparison.OrdinalIgnoreCase)
        || lastSegment.EndsWith("Window", StringComparison.OrdinalIgnoreCase)
        || lastSegment.EndsWith("Timeout", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reports wrong shapes into <paramref name="errors"/>; returns the duration values to bind in their place.</summary>
    public static Dictionary<string, string?> Check(IConfiguration root, List<string> errors)
    {
        foreach (IConfigurationSection section in root.GetChildren())
        {
            Walk(section, errors);
        }

        var rewritten = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach ((string key, string? value) in root.AsEnumerable())
        {
            string last = key[(key.LastIndexOf(':') + 1)..];
            if (value is null || !IsDurationKey(last))
            {
                continue;
            }

            if (!ConfigDuration.TryParse(value, out TimeSpan duration))
            {
                errors.Add($"{Dotted(key)} must be a duration such as 5s, 10m, 1h or 00:00:05 (at most 100 years), not '{Shown(value)}'");
                continue;
            }

            rewritten[key] = duration.ToString("c", CultureInfo.InvariantCulture);
        }

        return rewritten;
    }

    private static void Walk(IConfigurationSection section, List<string> errors)
    {
        string pattern = Pattern(section.Path);
        bool hasChildren = section.GetChildren().Any();
        if (s_objects.Contains(pattern, StringComparer.OrdinalIgnoreCase) && (section.Value is { Length: > 0 } || (hasChildren && IsList(section))))
        {
            errors.Add($"{Dotted(section.Path)} must be an object ({{ ... }}), not {Describe(section)}");
            return;
        }

        if (s_arrays.Contains(pattern, StringComparer.OrdinalIgnoreCase) && (section.Value is { Length: > 0 } || (hasChildren && !IsList(section))))
        {
            errors.Add($"{Dotted(section.Path)} must be a list ([ ... ]), not {Describe(section)}");
            return;
        }

        foreach (IConfigurationSection child in section.GetChildren())
        {
            Walk(child, errors);
        }
    }

    private static bool IsList(IConfigurationSection section) =>
        section.GetChildren().All(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _));

    private static string Describe(IConfigurationSection section) =>
        section.Value is { } v ? $"the value '{Shown(v)}'" : IsList(section) ? "a list" : "an object";

    /// <summary><c>Targets:3:Remediation</c> → <c>Targets:*:Remediation</c>.</summary>
    private static string Pattern(string path) => string.Join(':', path.Split(':').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? "*" : p));

    /// <summary><c>Targets:0:Remediation:Trim:MinInterval</c> → <c>Targets[0].Remediation.Trim.MinInterval</c>.</summary>
    private static string Dotted(string path)
    {
        var parts = path.Split(':');
        var text = new System.Text.StringBuilder(parts[0]);
        foreach (string p in parts.Skip(1))
        {
            text.Append(int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? $"[{p}]" : "." + p);
        }

        return text.ToString();
    }

    private static string Shown(string value) => value.Length <= 40 ? value.ReplaceLineEndings(" ") : value[..40].ReplaceLineEndings(" ") + "...";
}
