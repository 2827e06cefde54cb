using System.Diagnostics.CodeAnalysis;
using System.Text;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The mounts a process sees, from <c>/proc/PID/mountinfo</c> (proc_pid_mountinfo(5)); for cgroup resolution,
/// the reader's own <c>/proc/self/mountinfo</c>.
/// </summary>
/// <remarks>
/// Line format: <c>35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory</c>: mount id,
/// parent id, major:minor, root, mount point, mount options, zero or more optional fields ended by <c>-</c>,
/// fs type, source, super options. The kernel escapes space, tab, newline and backslash in paths as
/// <c>\ooo</c> octal; they are unescaped here.
/// </remarks>
public sealed record MountInfo(IReadOnlyList<MountInfoEntry> Entries)
{
    /// <summary>Parses the text of a mountinfo file.</summary>
    /// <exception cref="ProcParseException">A line has too few fields, a bad number or no <c>-</c> separator.</exception>
    public static MountInfo Parse(ReadOnlySpan<byte> text, string source)
    {
        var entries = new List<MountInfoEntry>(64);
        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.IsEmpty)
            {
                continue;
            }

            entries.Add(ParseLine(line, source, reader.LineNumber));
        }

        return new MountInfo(entries);
    }

    /// <summary>Reads <c>/proc/PID/mountinfo</c>; false when the process is gone.</summary>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out MountInfo? value)
        => TryReadPath(fs.ProcessPath(pid, "mountinfo"), buffer, out value);

    /// <summary>Reads the calling process's <c>/proc/self/mountinfo</c>; false when the file does not exist.</summary>
    public static bool TryReadSelf(ProcFileSystem fs, FileBuffer buffer, [NotNullWhen(true)] out MountInfo? value)
        => TryReadPath(fs.SystemPath("self/mountinfo"), buffer, out value);

    private static bool TryReadPath(string path, FileBuffer buffer, [NotNullWhen(true)] out MountInfo? value)
    {
        if (!buffer.TryLoad(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    private static MountInfoEntry ParseLine(ReadOnlySpan<byte> line, string source, int lineNumber)
    {
        ReadOnlySpan<byte> rest = line;
        ReadOnlySpan<byte> mountId = ByteParsing.NextField(ref rest);
        ReadOnlySpan<byte> parentId = ByteParsing.NextField(ref rest);
        ReadOnlySpan<byte> device = ByteParsing.NextField(ref rest);
        ReadOnlySpan<byte> root = ByteParsing.NextField(ref rest);
        ReadOnlySpan<byte> mountPoint = ByteParsing.NextField(ref rest);
        ReadOnlySpan<byte> options = ByteParsing.NextField(ref rest);
        if (options.IsEmpty)
        {
            throw Malformed(source, lineNumber, "too few fields", line);
        }

        if (!ByteParsing.TryParseUInt64(mountId, out ulong id) || id > int.MaxValue
            || !ByteParsing.TryParseUInt64(parentId, out ulong parent) || parent > int.MaxValue)
        {
            throw Malformed(source, lineNumber, "bad mount or parent id", line);
        }

        int colon = device.IndexOf((byte)':');
        if (colon < 0
            || !ByteParsing.TryParseUInt64(device[..colon], out ulong major) || major > uint.MaxValue
            || !ByteParsing.TryParseUInt64(device[(colon + 1)..], out ulong minor) || minor > uint.MaxValue)
        {
            throw Malformed(source, lineNumber, "bad major:minor", line);
        }

        ReadOnlySpan<byte> optionalStart = rest;
        int optionalLength;
        while (true)
        {
            ReadOnlySpan<byte> before = rest;
            ReadOnlySpan<byte> field = ByteParsing.NextField(ref rest);
            if (field.IsEmpty)
            {
                throw Malformed(source, lineNumber, "no '-' separator before the fs type", line);
            }

            if (field.SequenceEqual("-"u8))
            {
                optionalLength = optionalStart.Length - before.Length;
                break;
            }
        }

        ReadOnlySpan<byte> fsType = ByteParsing.NextField(ref rest);
        ReadOnlySpan<byte> second = ByteParsing.NextField(ref rest);
        ReadOnlySpan<byte> third = ByteParsing.NextField(ref rest);
        if (second.IsEmpty || !ByteParsing.NextField(ref rest).IsEmpty)
        {
            throw Malformed(source, lineNumber, "expected fs type, source and super options after '-'", line);
        }

        // An empty source leaves two spaces, which field splitting collapses: then only super options remain.
        ReadOnlySpan<byte> mountSource = third.IsEmpty ? default : second;
        ReadOnlySpan<byte> superOptions = third.IsEmpty ? second : third;
        return new MountInfoEntry(
            (int)id,
            (int)parent,
            (uint)major,
            (uint)minor,
            Unescape(root),
            Unescape(mountPoint),
            Encoding.UTF8.GetString(options),
            Encoding.UTF8.GetString(ByteParsing.TrimSpaces(optionalStart[..optionalLength])),
            Unescape(fsType),
            Unescape(mountSource),
            Encoding.UTF8.GetString(superOptions));
    }

    /// <summary>Undoes the kernel's <c>mangle()</c>: <c>\040</c> space, <c>\011</c> tab, <c>\012</c> newline, <c>\134</c> backslash.</summary>
    internal static string Unescape(ReadOnlySpan<byte> field)
    {
        if (field.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(field);
        }

        Span<byte> output = field.Length <= 512 ? stackalloc byte[field.Length] : new byte[field.Length];
        int n = 0;
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == (byte)'\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                int value = ((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0');
                if (value <= 0xff)
                {
                    output[n++] = (byte)value;
                    i += 3;
                    continue;
                }
            }

            output[n++] = field[i];
        }

        return Encoding.UTF8.GetString(output[..n]);
    }

    private static bool IsOctal(byte b) => b is >= (byte)'0' and <= (byte)'7';

    private static ProcParseException Malformed(string source, int line, string what, ReadOnlySpan<byte> text)
        => new(source, line, $"{what}: '{ByteParsing.Excerpt(text)}'");
}
