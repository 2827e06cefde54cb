using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Parsing;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Injection;

/// <summary>
/// The fields of <c>/proc/PID/status</c> or <c>/proc/PID/task/TID/status</c> (proc(5)) that decide whether and
/// how a thread may be traced: its tracer, blocked signals, seccomp mode, owner and x86 shadow stack.
/// </summary>
/// <param name="TracerPid">PID of the process tracing this one; 0 when untraced.</param>
/// <param name="BlockedSignals">SigBlk: the blocked-signal mask (bit n-1 = signal n).</param>
/// <param name="SeccompMode">Seccomp: 0 none, 1 strict, 2 filter; null on kernels without the field.</param>
/// <param name="RealUid">First value of the Uid line.</param>
/// <param name="ShadowStackEnabled">x86_Thread_features lists shstk (user shadow stack on, kernel 6.6+).</param>
internal sealed record ThreadStatus(int TracerPid, ulong BlockedSignals, int? SeccompMode, long RealUid, bool ShadowStackEnabled)
{
    public static ThreadStatus Parse(ReadOnlySpan<byte> text, string source)
    {
        int? tracer = null;
        ulong? blocked = null;
        int? seccomp = null;
        long? uid = null;
        bool shstk = false;
        var reader = new LineReader(text);
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }

            ReadOnlySpan<byte> key = line[..colon];
            ReadOnlySpan<byte> value = ByteParsing.TrimSpaces(line[(colon + 1)..]);
            if (key.SequenceEqual("TracerPid"u8))
            {
                tracer = (int)ParseNumber(value, int.MaxValue, source, reader.LineNumber);
            }
            else if (key.SequenceEqual("SigBlk"u8))
            {
                if (!ByteParsing.TryParseHex(value, out ulong mask))
                {
                    throw new ProcParseException(source, reader.LineNumber, $"SigBlk is not hex: '{ByteParsing.Excerpt(value)}'");
                }

                blocked = mask;
            }
            else if (key.SequenceEqual("Seccomp"u8))
            {
                seccomp = (int)ParseNumber(value, 2, source, reader.LineNumber);
            }
            else if (key.SequenceEqual("Uid"u8))
            {
                ReadOnlySpan<byte> rest = value;
                uid = ParseNumber(ByteParsing.NextField(ref rest), uint.MaxValue, source, reader.LineNumber);
            }
            else if (key.SequenceEqual("x86_Thread_features"u8))
            {
                ReadOnlySpan<byte> rest = value;
                for (ReadOnlySpan<byte> f = ByteParsing.NextField(ref rest); !f.IsEmpty; f = ByteParsing.NextField(ref rest))
                {
                    shstk |= f.SequenceEqual("shstk"u8);
                }
            }
        }

        if (tracer is null || blocked is null || uid is null)
        {
            throw new ProcParseException(source, reader.LineNumber, "TracerPid, SigBlk or Uid missing");
        }

        return new ThreadStatus(tracer.Value, blocked.Value, seccomp, uid.Value, shstk);
    }

    /// <summary>Reads the status of a process (<paramref name="tid"/> null) or of one of its threads. False when gone.</summary>
    public static bool TryRead(ProcFileSystem fs, int pid, int? tid, FileBuffer buffer, [NotNullWhen(true)] out ThreadStatus? value)
    {
        string path = tid is int t ? fs.ThreadPath(pid, t, "status") : fs.ProcessPath(pid, "status");
        value = buffer.TryLoad(path) ? Parse(buffer.Span, path) : null;
        return value is not null;
    }

    private static long ParseNumber(ReadOnlySpan<byte> value, long max, string source, int line)
    {
        if (!ByteParsing.TryParseInt64(value, out long n) || n < 0 || n > max)
        {
            throw new ProcParseException(source, line, $"expected a number up to {max}: '{ByteParsing.Excerpt(value)}'");
        }

        return n;
    }
}
