using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The totals of <c>/proc/PID/smaps_rollup</c> (proc(5); Linux 4.14+): the smaps fields summed over every mapping.
/// On older kernels the same totals are computed by summing <c>/proc/PID/smaps</c> (<see cref="IsComputedFromSmaps"/>).
/// </summary>
/// <remarks>
/// The kernel prints a header <c>55d1f5549000-7ffdcc085000 ---p 00000000 00:00 0 [rollup]</c> (first mapping start to
/// last mapping end) and then the smaps keys without Size, KernelPageSize, MMUPageSize and VmFlags, plus Pss_Anon,
/// Pss_File and Pss_Shmem. A sum of smaps cannot split Pss by backing, so those three are 0 when computed; the kernel
/// also rounds Pss once for the rollup but once per mapping in smaps, so a computed Pss can be lower by under 1 kB per
/// mapping.
/// </remarks>
public sealed record SmapsRollup(ulong StartAddress, ulong EndAddress, SmapsFields Fields, bool IsComputedFromSmaps)
{
    /// <summary>Number of mappings summed; null for the kernel's own rollup, which does not say.</summary>
    public int? MappingCount { get; init; }

    public ulong RssBytes => Fields.RssBytes;

    public ulong PssBytes => Fields.PssBytes;

    public ulong SwapBytes => Fields.SwapBytes;

    /// <summary>Parses smaps_rollup text. Pure; throws <see cref="ProcParseException"/> on malformed input.</summary>
    public static SmapsRollup Parse(ReadOnlySpan<byte> text, string source)
    {
        var lines = new LineReader(text);
        if (!lines.TryReadLine(out ReadOnlySpan<byte> first))
        {
            throw new ProcParseException(source, 0, "empty file");
        }

        if (!MappingHeader.TryParse(first, out MappingHeader header))
        {
            throw new ProcParseException(source, lines.LineNumber, MappingHeader.Describe(first));
        }

        SmapsFields fields = default;
        int expectedKey = SmapsFieldParser.FirstKey;
        int lineNumber = 1;
        int headerLength = Math.Min(first.Length + 1, text.Length);
        int consumed = SmapsFieldParser.ParseFields(
            text[headerLength..], isFinal: true, ref fields, ref expectedKey, ref lineNumber, source, out _);
        if (headerLength + consumed < text.Length)
        {
            ReadOnlySpan<byte> bad = text[(headerLength + consumed)..];
            int nl = bad.IndexOf((byte)'\n');
            throw new ProcParseException(
                source, lineNumber + 1, $"expected 'Key: value': '{ByteParsing.Excerpt(nl < 0 ? bad : bad[..nl])}'");
        }

        return new SmapsRollup(header.StartAddress, header.EndAddress, fields, IsComputedFromSmaps: false);
    }

    /// <summary>Sums the records of a smaps reader (the fallback for kernels without smaps_rollup), as the kernel would.</summary>
    public static SmapsRollup Sum(ref SmapsReader smaps)
    {
        SmapsFields total = default;
        ulong start = 0;
        ulong end = 0;
        int count = 0;
        while (smaps.MoveNext())
        {
            SmapsEntry entry = smaps.Current;
            if (entry.Header.Path.SequenceEqual("[vsyscall]"u8))
            {
                // The x86-64 gate area is listed in smaps but is no VMA of the process: the kernel's rollup leaves it out.
                continue;
            }

            if (count == 0)
            {
                start = entry.Header.StartAddress;
            }

            end = entry.Header.EndAddress;
            total.Add(entry.Fields);
            count++;
        }

        return new SmapsRollup(start, end, total, IsComputedFromSmaps: true) { MappingCount = count };
    }

    /// <summary>
    /// Reads <c>/proc/PID/smaps_rollup</c>; when the kernel has none, sums <c>/proc/PID/smaps</c> through
    /// <paramref name="smaps"/> (a fresh reader is made when null). Returns false when the process is gone.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">No ptrace-read access to the process.</exception>
    public static bool TryRead(
        ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out SmapsRollup? rollup, Smaps? smaps = null)
    {
        string path = fs.ProcessPath(pid, "smaps_rollup");
        if (buffer.TryLoadSingleShow(path))
        {
            rollup = Parse(buffer.Span, path);
            return true;
        }

        rollup = null;
        if (!Directory.Exists(fs.ProcessDirectory(pid)))
        {
            return false;
        }

        smaps ??= new Smaps(64 * 1024);
        if (!smaps.TryOpen(fs, pid, out SmapsReader reader))
        {
            return false;
        }

        try
        {
            rollup = Sum(ref reader);
            if (reader.ProcessExited)
            {
                rollup = null;
                return false;
            }

            return true;
        }
        finally
        {
            reader.Dispose();
        }
    }
}
