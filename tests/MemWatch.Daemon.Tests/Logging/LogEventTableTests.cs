using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using MemWatch.Daemon.Logging;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Tests.Logging;

/// <summary>
/// Every message in <see cref="Log"/> has an id of its own, and the table in docs/daemon.md ("Log events") lists exactly
/// those ids, each at its level: an operator filtering on an id finds what the table says.
/// </summary>
public sealed partial class LogEventTableTests
{
    [Fact]
    public void EveryMessageHasItsOwnIdAndTheDocumentedLevel()
    {
        List<LoggerMessageAttribute> messages = typeof(Log).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .ToList();
        Assert.NotEmpty(messages);
        Assert.All(messages, m => Assert.True(m.EventId >= 1000, $"'{m.Message}' has no numbered id"));
        Assert.Equal(messages.Count, messages.Select(m => m.EventId).Distinct().Count());

        string doc = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "daemon.md"));
        string section = doc[doc.IndexOf("## Log events", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        Dictionary<int, string> documented = Row().Matches(section)
            .ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => m.Groups[2].Value);

        Assert.Equal(messages.Select(m => m.EventId).Order(), documented.Keys.Order());
        Assert.All(messages, m => Assert.Equal(m.Level.ToString(), documented[m.EventId]));
    }

    [GeneratedRegex(@"^\| (\d+) \| (\w+) \|", RegexOptions.Multiline)]
    private static partial Regex Row();
}
