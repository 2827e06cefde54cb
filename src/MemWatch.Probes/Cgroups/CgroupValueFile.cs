using MemWatch.Probes.Parsing;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Cgroups;

/// <summary>Parsing and reading of cgroup single-value files (<c>memory.max</c>, <c>memory.usage_in_bytes</c>, ...).</summary>
internal static class CgroupValueFile
{
    /// <summary>
    /// v1 reports "no limit" as PAGE_COUNTER_MAX pages: LONG_MAX rounded down to the page size
    /// (9223372036854771712 with 4 KiB pages). Anything at or above 2^62 is treated as that sentinel.
    /// </summary>
    public const ulong V1UnlimitedThreshold = 1UL << 62;

    /// <summary>Parses one decimal value followed by an optional newline.</summary>
    public static ulong ParseUInt64(ReadOnlySpan<byte> text, string source)
    {
        ReadOnlySpan<byte> value = SingleLine(text, source);
        if (!ByteParsing.TryParseUInt64(value, out ulong n))
        {
            throw new ProcParseException(source, 1, $"expected a decimal value, got '{ByteParsing.Excerpt(text)}'");
        }

        return n;
    }

    /// <summary>Parses a limit: <c>max</c> (v2) or a v1 value at the unlimited sentinel give null.</summary>
    public static ulong? ParseLimit(ReadOnlySpan<byte> text, string source)
    {
        ReadOnlySpan<byte> value = SingleLine(text, source);
        if (value.SequenceEqual("max"u8))
        {
            return null;
        }

        if (!ByteParsing.TryParseUInt64(value, out ulong n))
        {
            throw new ProcParseException(source, 1, $"expected a decimal value or 'max', got '{ByteParsing.Excerpt(text)}'");
        }

        return n >= V1UnlimitedThreshold ? null : n;
    }

    /// <summary>Reads <c>{directory}/{name}</c> as a plain value; null when the file does not exist.</summary>
    public static ulong? ReadUInt64(string directory, string name, FileBuffer buffer)
    {
        string path = $"{directory}/{name}";
        return buffer.TryLoad(path) ? ParseUInt64(buffer.Span, path) : null;
    }

    /// <summary>Reads a limit file; <c>Exists</c> false when the file does not exist, <c>Limit</c> null when unlimited.</summary>
    public static (bool Exists, ulong? Limit) ReadLimit(string directory, string name, FileBuffer buffer)
    {
        string path = $"{directory}/{name}";
        return buffer.TryLoad(path) ? (true, ParseLimit(buffer.Span, path)) : (false, null);
    }

    private static ReadOnlySpan<byte> SingleLine(ReadOnlySpan<byte> text, string source)
    {
        if (!text.IsEmpty && text[^1] == (byte)'\n')
        {
            text = text[..^1];
        }

        if (text.IndexOf((byte)'\n') >= 0)
        {
            throw new ProcParseException(source, 2, "expected a single line");
        }

        return ByteParsing.TrimSpaces(text);
    }
}
