using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Pressure stall information from <c>/proc/pressure/memory</c> or a cgroup's <c>memory.pressure</c>
/// (kernel Documentation/accounting/psi.rst).
/// </summary>
/// <remarks>
/// <c>some avg10=0.00 avg60=0.00 avg300=0.00 total=0</c> then <c>full ...</c>: "some" is the share of time at least
/// one task stalled on memory, "full" the share all non-idle tasks stalled together. The <c>full</c> line is
/// absent from cpu pressure on older kernels, so it is optional. Unknown keys and line kinds are ignored.
/// </remarks>
public sealed record PressureStall(PressureStallLine Some, PressureStallLine? Full)
{
    private const int EOPNOTSUPP = 95;

    /// <exception cref="ProcParseException">No <c>some</c> line, a missing avg/total key, or an unparsable value.</exception>
    public static PressureStall Parse(ReadOnlySpan<byte> text, string source)
    {
        PressureStallLine? some = null;
        PressureStallLine? full = null;
        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            ReadOnlySpan<byte> rest = line;
            ReadOnlySpan<byte> kind = ByteParsing.NextField(ref rest);
            bool isSome = kind.SequenceEqual("some"u8);
            if (!isSome && !kind.SequenceEqual("full"u8))
            {
                continue;
            }

            PressureStallLine parsed = ParseLine(rest, source, reader.LineNumber, line);
            if (isSome)
            {
                some = parsed;
            }
            else
            {
                full = parsed;
            }
        }

        if (some is null)
        {
            throw new ProcParseException(source, 0, "no 'some' line");
        }

        return new PressureStall(some.Value, full);
    }

    /// <summary>
    /// Reads the system-wide <c>/proc/pressure/memory</c>. False when it does not exist (a kernel without
    /// CONFIG_PSI, or booted with psi=0).
    /// </summary>
    public static bool TryReadSystem(ProcFileSystem fs, FileBuffer buffer, [NotNullWhen(true)] out PressureStall? value)
        => TryReadFile(fs.SystemPath("pressure/memory"), buffer, out value);

    /// <summary>
    /// Reads a PSI file such as a cgroup's <c>memory.pressure</c>. False when the file does not exist or PSI is
    /// disabled (the kernel then answers EOPNOTSUPP on read).
    /// </summary>
    public static bool TryReadFile(string path, FileBuffer buffer, [NotNullWhen(true)] out PressureStall? value)
    {
        bool loaded;
        try
        {
            loaded = buffer.TryLoad(path);
        }
        catch (IOException e) when (e.HResult == EOPNOTSUPP)
        {
            // psi=0 on the kernel command line: cgroup pressure files exist but refuse reads.
            loaded = false;
        }

        if (!loaded)
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    private static PressureStallLine ParseLine(ReadOnlySpan<byte> rest, string source, int lineNumber, ReadOnlySpan<byte> line)
    {
        double? avg10 = null, avg60 = null, avg300 = null;
        ulong? total = null;
        while (true)
        {
            ReadOnlySpan<byte> field = ByteParsing.NextField(ref rest);
            if (field.IsEmpty)
            {
                break;
            }

            int eq = field.IndexOf((byte)'=');
            if (eq <= 0)
            {
                throw new ProcParseException(source, lineNumber, $"expected key=value fields: '{ByteParsing.Excerpt(line)}'");
            }

            ReadOnlySpan<byte> key = field[..eq];
            ReadOnlySpan<byte> value = field[(eq + 1)..];
            if (key.SequenceEqual("total"u8))
            {
                total = ByteParsing.TryParseUInt64(value, out ulong t) ? t : throw Bad(source, lineNumber, line);
            }
            else if (key.SequenceEqual("avg10"u8))
            {
                avg10 = ParsePercent(value, source, lineNumber, line);
            }
            else if (key.SequenceEqual("avg60"u8))
            {
                avg60 = ParsePercent(value, source, lineNumber, line);
            }
            else if (key.SequenceEqual("avg300"u8))
            {
                avg300 = ParsePercent(value, source, lineNumber, line);
            }
        }

        if (avg10 is null || avg60 is null || avg300 is null || total is null)
        {
            throw new ProcParseException(source, lineNumber, $"missing avg10, avg60, avg300 or total: '{ByteParsing.Excerpt(line)}'");
        }

        return new PressureStallLine(avg10.Value, avg60.Value, avg300.Value, total.Value);
    }

    private static double ParsePercent(ReadOnlySpan<byte> value, string source, int lineNumber, ReadOnlySpan<byte> line)
        => ByteParsing.TryParseDouble(value, out double d) && d >= 0 && double.IsFinite(d) ? d : throw Bad(source, lineNumber, line);

    private static ProcParseException Bad(string source, int lineNumber, ReadOnlySpan<byte> line)
        => new(source, lineNumber, $"bad value in '{ByteParsing.Excerpt(line)}'");
}
