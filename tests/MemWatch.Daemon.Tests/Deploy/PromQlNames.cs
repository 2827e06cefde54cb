using System.Text.RegularExpressions;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>
/// The metric names a PromQL expression selects. Not a parser (Prometheus itself checks the syntax in the tests that
/// call it): it drops string literals, label matchers, grouping label lists, durations and function names, and what
/// identifiers remain are metric names.
/// </summary>
public static partial class PromQlNames
{
    private static readonly HashSet<string> s_keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool",
        "inf", "nan", "Inf", "NaN",
    };

    public static IReadOnlySet<string> In(string expression)
    {
        string text = Strings().Replace(expression, " ");
        text = Braces().Replace(text, " ");
        text = LabelLists().Replace(text, " ");
        text = Ranges().Replace(text, " ");

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Identifier().Matches(text))
        {
            string name = m.Groups[1].Value;
            bool isCall = m.Groups[2].Success;
            if (!isCall && !s_keywords.Contains(name))
            {
                names.Add(name);
            }
        }

        return names;
    }

    // "..." and '...' and `...` with escapes.
    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex Braces();

    // by (a, b), without (...), on (...), ignoring (...), group_left (...), group_right (...).
    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex LabelLists();

    // [5m], [$__rate_interval], [1h:1m] and offsets' durations.
    [GeneratedRegex(@"\[[^\[\]]*\]|\boffset\s+\S+")]
    private static partial Regex Ranges();

    // An identifier not preceded by a digit, '.' or '$' (numbers, 1e3, Grafana variables); group 2 = a call's '('.
    [GeneratedRegex(@"(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")]
    private static partial Regex Identifier();
}
