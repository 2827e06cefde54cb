using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Memory sizes of <c>/proc/[pid]/statm</c> (proc_pid_statm(5)), the cheapest per-process memory file.
/// </summary>
/// <remarks>
/// One line of page counts: <c>size resident shared text lib data dt</c>, e.g. <c>58266 2855 370 1 0 8680 0</c>.
/// lib and dt are always 0 since Linux 2.6 and are not kept; a kernel that stopped printing them is accepted.
/// Values are converted to bytes with <see cref="Environment.SystemPageSize"/>. resident equals status's VmRSS,
/// shared equals RssFile + RssShmem, data equals VmData + VmStk. Kernel threads report all zeros.
/// </remarks>
public sealed record ProcStatm(ulong SizeBytes, ulong ResidentBytes, ulong SharedBytes, ulong TextBytes, ulong DataBytes)
{
    /// <summary>Reads <c>/proc/[pid]/statm</c>; false when the process is gone.</summary>
    /// <exception cref="ProcParseException">The file is malformed.</exception>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out ProcStatm? value)
    {
        string path = fs.ProcessPath(pid, "statm");
        if (!buffer.TryLoadSingleShow(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    /// <summary>Parses the contents of a statm file. Pure.</summary>
    /// <exception cref="ProcParseException">Malformed or truncated input.</exception>
    public static ProcStatm Parse(ReadOnlySpan<byte> text, string source)
    {
        ProcText.RequireNewlineTerminated(text, source);
        ReadOnlySpan<byte> rest = text[..^1];
        if (rest.IndexOf((byte)'\n') >= 0)
        {
            throw new ProcParseException(source, 1, "expected a single line");
        }

        // size resident shared text lib data: six numbers at least; trailing numbers (dt) are tolerated.
        Span<ulong> pages = stackalloc ulong[6];
        for (int i = 0; i < pages.Length; i++)
        {
            ReadOnlySpan<byte> field = ByteParsing.NextField(ref rest);
            if (!ByteParsing.TryParseUInt64(field, out pages[i]))
            {
                throw new ProcParseException(source, 1, $"field {i + 1} is not a page count: '{ByteParsing.Excerpt(field)}'");
            }
        }

        for (ReadOnlySpan<byte> extra = ByteParsing.NextField(ref rest); !extra.IsEmpty; extra = ByteParsing.NextField(ref rest))
        {
            if (!ByteParsing.TryParseUInt64(extra, out _))
            {
                throw new ProcParseException(source, 1, $"trailing field is not a number: '{ByteParsing.Excerpt(extra)}'");
            }
        }

        return new ProcStatm(
            ProcText.PagesToBytes(pages[0], source, 1),
            ProcText.PagesToBytes(pages[1], source, 1),
            ProcText.PagesToBytes(pages[2], source, 1),
            ProcText.PagesToBytes(pages[3], source, 1),
            ProcText.PagesToBytes(pages[5], source, 1));
    }
}
