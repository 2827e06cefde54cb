using MemWatch.Probes.Parsing;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Injection;

/// <summary>The scheduler state of a thread: field 3 of <c>/proc/PID/task/TID/stat</c> (proc(5)).</summary>
internal static class ThreadStat
{
    /// <summary>The state letter (R, S, D, T, t, Z, X, I, ...). The comm field may hold spaces and ')' so the last ')' ends it.</summary>
    public static char ParseState(ReadOnlySpan<byte> text, string source)
    {
        int close = text.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= text.Length || text[close + 1] != (byte)' ')
        {
            throw new ProcParseException(source, 1, $"no state after the comm field: '{ByteParsing.Excerpt(text)}'");
        }

        byte state = text[close + 2];
        if (state is < (byte)'A' or > (byte)'z')
        {
            throw new ProcParseException(source, 1, $"state is not a letter: '{ByteParsing.Excerpt(text[close..])}'");
        }

        return (char)state;
    }

    /// <summary>The state of a thread, or null when it has exited.</summary>
    public static char? TryReadState(ProcFileSystem fs, int pid, int tid, FileBuffer buffer)
    {
        string path = fs.ThreadPath(pid, tid, "stat");
        return buffer.TryLoad(path) ? ParseState(buffer.Span, path) : null;
    }
}
