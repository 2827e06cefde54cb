namespace MemWatch.Probes.Parsing;

/// <summary>Checks and conversions shared by the line-oriented /proc readers.</summary>
internal static class ProcText
{
    /// <summary>
    /// The kernel ends every line of its text files with a newline; a file that does not is truncated,
    /// and its last number may be a cut-off prefix of the real one. Throws <see cref="ProcParseException"/>.
    /// </summary>
    public static void RequireNewlineTerminated(ReadOnlySpan<byte> text, string source)
    {
        if (text.IsEmpty)
        {
            throw new ProcParseException(source, 0, "file is empty");
        }

        if (text[^1] != (byte)'\n')
        {
            throw new ProcParseException(source, LineOf(text, text.Length - 1), "last line has no newline (truncated)");
        }
    }

    /// <summary>1-based line number of the byte at <paramref name="offset"/>.</summary>
    public static int LineOf(ReadOnlySpan<byte> text, int offset)
        => text[..Math.Min(offset, text.Length)].Count((byte)'\n') + 1;

    /// <summary>Splits a <c>Key:\tvalue</c> line at its first colon; false when there is no non-empty key.</summary>
    public static bool TrySplitKeyValue(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            key = default;
            value = default;
            return false;
        }

        key = line[..colon];
        value = line[(colon + 1)..];
        return true;
    }

    /// <summary>Converts a page count to bytes, throwing <see cref="ProcParseException"/> instead of wrapping.</summary>
    public static ulong PagesToBytes(ulong pages, string source, int line)
    {
        ulong pageSize = (ulong)Environment.SystemPageSize;
        if (pages > ulong.MaxValue / pageSize)
        {
            throw new ProcParseException(source, line, $"page count {pages} overflows a byte count");
        }

        return pages * pageSize;
    }

    /// <summary>Parses a decimal <see cref="int"/> that must fill <paramref name="text"/>.</summary>
    public static bool TryParseInt32(ReadOnlySpan<byte> text, out int value)
    {
        if (ByteParsing.TryParseInt64(text, out long v) && v is >= int.MinValue and <= int.MaxValue)
        {
            value = (int)v;
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>Parses an unsigned decimal <see cref="uint"/> that must fill <paramref name="text"/>.</summary>
    public static bool TryParseUInt32(ReadOnlySpan<byte> text, out uint value)
    {
        if (ByteParsing.TryParseUInt64(text, out ulong v) && v <= uint.MaxValue)
        {
            value = (uint)v;
            return true;
        }

        value = 0;
        return false;
    }
}
