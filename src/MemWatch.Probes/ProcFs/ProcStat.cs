using System.Diagnostics.CodeAnalysis;
using System.Text;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// Scheduling, fault and size counters of <c>/proc/[pid]/stat</c> (proc_pid_stat(5)).
/// </summary>
/// <remarks>
/// One line: <c>pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
/// cutime cstime priority nice num_threads itrealvalue starttime vsize rss rsslim ...</c>. comm is printed raw
/// (spaces, parentheses and newlines included), so it runs from the first '(' to the last ')'. Fields up to
/// rss are required; the ones after it vary by kernel version and are not read. Times are clock ticks
/// (sysconf(_SC_CLK_TCK)). Since Linux 6.2 rss is read from per-CPU counters without summing them, so it can
/// lag <c>statm</c> and <see cref="ProcStatus"/> by a few pages per CPU; prefer those for RSS.
/// </remarks>
public sealed record ProcStat
{
    private const int RequiredFieldsAfterComm = 22;

    // Indexes after comm (state = 0) of the fields the kernel prints signed: ppid, pgrp, session, tty_nr,
    // tpgid, cutime, cstime, priority, nice, num_threads, itrealvalue. The others are unsigned counters.
    private const uint SignedFields = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5)
        | (1u << 13) | (1u << 14) | (1u << 15) | (1u << 16) | (1u << 17) | (1u << 18);

    /// <summary>Field 1, pid.</summary>
    public required int Pid { get; init; }

    /// <summary>Field 2, comm, without the surrounding parentheses.</summary>
    public required string Comm { get; init; }

    /// <summary>Field 3, state: one of R, S, D, Z, T, t, X, I, P.</summary>
    public required char State { get; init; }

    /// <summary>Field 4, ppid.</summary>
    public required int PPid { get; init; }

    /// <summary>Field 10, minflt: minor faults (no disk read).</summary>
    public required ulong MinorFaults { get; init; }

    /// <summary>Field 11, cminflt: minor faults of waited-for children.</summary>
    public required ulong ChildMinorFaults { get; init; }

    /// <summary>Field 12, majflt: major faults (page read from disk or swap).</summary>
    public required ulong MajorFaults { get; init; }

    /// <summary>Field 13, cmajflt: major faults of waited-for children.</summary>
    public required ulong ChildMajorFaults { get; init; }

    /// <summary>Field 14, utime: user-mode time in clock ticks.</summary>
    public required ulong UserTimeTicks { get; init; }

    /// <summary>Field 15, stime: kernel-mode time in clock ticks.</summary>
    public required ulong SystemTimeTicks { get; init; }

    /// <summary>Field 20, num_threads.</summary>
    public required int ThreadCount { get; init; }

    /// <summary>Field 22, starttime: clock ticks after boot at which the process started.</summary>
    public required ulong StartTimeTicks { get; init; }

    /// <summary>Field 23, vsize: virtual size in bytes.</summary>
    public required ulong VirtualSizeBytes { get; init; }

    /// <summary>Field 24, rss: resident pages (see the remarks on its precision).</summary>
    public required ulong RssPages { get; init; }

    /// <summary><see cref="RssPages"/> times <see cref="Environment.SystemPageSize"/>.</summary>
    public required ulong RssBytes { get; init; }

    /// <summary>Reads <c>/proc/[pid]/stat</c>; false when the process is gone.</summary>
    /// <exception cref="ProcParseException">The file is malformed.</exception>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out ProcStat? value)
    {
        string path = fs.ProcessPath(pid, "stat");
        if (!buffer.TryLoadSingleShow(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    /// <summary>Parses the contents of a stat file. Pure.</summary>
    /// <exception cref="ProcParseException">Malformed or truncated input.</exception>
    public static ProcStat Parse(ReadOnlySpan<byte> text, string source)
    {
        ProcText.RequireNewlineTerminated(text, source);
        ReadOnlySpan<byte> body = text[..^1];
        int open = body.IndexOf((byte)'(');
        int close = body.LastIndexOf((byte)')');
        if (open < 2 || close < open || body[open - 1] != (byte)' ')
        {
            throw new ProcParseException(source, 1, $"expected 'pid (comm) ...', got '{ByteParsing.Excerpt(body)}'");
        }

        if (!ProcText.TryParseInt32(body[..(open - 1)], out int pid) || pid < 0)
        {
            throw new ProcParseException(source, 1, $"bad pid '{ByteParsing.Excerpt(body[..(open - 1)])}'");
        }

        // comm may hold newlines, so the fields after it are on the line the last ')' is on.
        int line = ProcText.LineOf(text, close);
        ReadOnlySpan<byte> rest = body[(close + 1)..];
        if (rest.IsEmpty || rest[0] != (byte)' ' || rest.IndexOf((byte)'\n') >= 0)
        {
            throw new ProcParseException(source, line, $"bad text after comm '{ByteParsing.Excerpt(rest)}'");
        }

        ReadOnlySpan<byte> stateField = ByteParsing.NextField(ref rest);
        if (stateField.Length != 1 || !char.IsAsciiLetter((char)stateField[0]))
        {
            throw new ProcParseException(source, line, $"bad state '{ByteParsing.Excerpt(stateField)}'");
        }

        Span<ulong> f = stackalloc ulong[RequiredFieldsAfterComm];
        for (int i = 1; i < RequiredFieldsAfterComm; i++)
        {
            ReadOnlySpan<byte> field = ByteParsing.NextField(ref rest);
            if (field.IsEmpty)
            {
                throw new ProcParseException(source, line, $"only {i + 2} fields; at least {RequiredFieldsAfterComm + 2} expected");
            }

            bool ok;
            if ((SignedFields & (1u << i)) != 0)
            {
                ok = ByteParsing.TryParseInt64(field, out long signed);
                f[i] = unchecked((ulong)signed);
            }
            else
            {
                ok = ByteParsing.TryParseUInt64(field, out f[i]);
            }

            if (!ok)
            {
                throw new ProcParseException(source, line, $"field {i + 3} is not a number: '{ByteParsing.Excerpt(field)}'");
            }
        }

        return new ProcStat
        {
            Pid = pid,
            Comm = Encoding.UTF8.GetString(body[(open + 1)..close]),
            State = (char)stateField[0],
            PPid = f[1] <= int.MaxValue ? (int)f[1] : throw Bad(source, line, "ppid", f[1]),
            MinorFaults = f[7],
            ChildMinorFaults = f[8],
            MajorFaults = f[9],
            ChildMajorFaults = f[10],
            UserTimeTicks = f[11],
            SystemTimeTicks = f[12],
            ThreadCount = f[17] <= int.MaxValue ? (int)f[17] : throw Bad(source, line, "num_threads", f[17]),
            StartTimeTicks = f[19],
            VirtualSizeBytes = f[20],
            RssPages = f[21],
            RssBytes = ProcText.PagesToBytes(f[21], source, line),
        };
    }

    private static ProcParseException Bad(string source, int line, string name, ulong value)
        => new(source, line, $"{name} out of range: {unchecked((long)value)}");
}
