using System.Buffers.Text;
using System.Text;

namespace MemWatch.Probes.Parsing;

/// <summary>Allocation-free number and field parsing for /proc and cgroup text.</summary>
internal static class ByteParsing
{
    /// <summary>Parses an unsigned decimal that must fill <paramref name="text"/> exactly.</summary>
    public static bool TryParseUInt64(ReadOnlySpan<byte> text, out ulong value)
        => Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length && text.Length > 0;

    /// <summary>Parses a signed decimal that must fill <paramref name="text"/> exactly.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
        => Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length && text.Length > 0;

    /// <summary>Parses lower- or upper-case hexadecimal without prefix that must fill <paramref name="text"/>.</summary>
    public static bool TryParseHex(ReadOnlySpan<byte> text, out ulong value)
        => Utf8Parser.TryParse(text, out value, out int consumed, 'x') && consumed == text.Length && text.Length > 0;

    /// <summary>Parses a decimal with an optional fraction, such as the <c>avg10=1.25</c> values of PSI files.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
        => Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length && text.Length > 0;

    public static ReadOnlySpan<byte> TrimSpaces(ReadOnlySpan<byte> s)
    {
        int start = 0;
        while (start < s.Length && (s[start] == (byte)' ' || s[start] == (byte)'\t'))
        {
            start++;
        }

        int end = s.Length;
        while (end > start && (s[end - 1] == (byte)' ' || s[end - 1] == (byte)'\t' || s[end - 1] == (byte)'\r'))
        {
            end--;
        }

        return s[start..end];
    }

    /// <summary>
    /// Returns the next whitespace-separated field of <paramref name="rest"/> and advances past it;
    /// empty when none is left.
    /// </summary>
    public static ReadOnlySpan<byte> NextField(ref ReadOnlySpan<byte> rest)
    {
        int i = 0;
        while (i < rest.Length && (rest[i] == (byte)' ' || rest[i] == (byte)'\t'))
        {
            i++;
        }

        int start = i;
        while (i < rest.Length && rest[i] != (byte)' ' && rest[i] != (byte)'\t')
        {
            i++;
        }

        ReadOnlySpan<byte> field = rest[start..i];
        rest = rest[i..];
        return field;
    }

    /// <summary>
    /// Parses the value part of a <c>Key:   1234 kB</c> line (status, meminfo, smaps) into bytes.
    /// A value without a unit is returned as is. Returns false when the value is not a number.
    /// </summary>
    public static bool TryParseKbValue(ReadOnlySpan<byte> valuePart, out ulong bytes, out bool hadKbUnit)
    {
        ReadOnlySpan<byte> rest = valuePart;
        ReadOnlySpan<byte> number = NextField(ref rest);
        ReadOnlySpan<byte> unit = NextField(ref rest);
        hadKbUnit = false;
        if (!TryParseUInt64(number, out ulong n))
        {
            bytes = 0;
            return false;
        }

        if (unit.IsEmpty)
        {
            bytes = n;
            return NextField(ref rest).IsEmpty;
        }

        if (unit.SequenceEqual("kB"u8))
        {
            hadKbUnit = true;
            if (n > ulong.MaxValue / 1024)
            {
                bytes = 0;
                return false;
            }

            bytes = n * 1024;
            return NextField(ref rest).IsEmpty;
        }

        bytes = 0;
        return false;
    }

    /// <summary>Renders a short, printable excerpt of bad input for an exception message.</summary>
    public static string Excerpt(ReadOnlySpan<byte> text, int max = 80)
    {
        ReadOnlySpan<byte> cut = text.Length > max ? text[..max] : text;
        var sb = new StringBuilder(cut.Length + 5);
        foreach (byte b in cut)
        {
            sb.Append(b is >= 0x20 and < 0x7f ? (char)b : '?');
        }

        if (text.Length > max)
        {
            sb.Append("...");
        }

        return sb.ToString();
    }
}
