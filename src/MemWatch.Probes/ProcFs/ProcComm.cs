using System.Diagnostics.CodeAnalysis;
using System.Text;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>The command name in <c>/proc/[pid]/comm</c> (proc_pid_comm(5)).</summary>
/// <remarks>
/// The kernel prints the name unescaped and adds one newline, which is stripped. The name is at most 15 bytes
/// (longer for workqueue workers, e.g. <c>kworker/u8:1-events_unbound</c>) and may itself contain spaces,
/// parentheses or a newline, since a process can set it to anything with prctl(PR_SET_NAME).
/// </remarks>
public sealed record ProcComm(string Name)
{
    /// <summary>Reads <c>/proc/[pid]/comm</c>; false when the process is gone.</summary>
    /// <exception cref="ProcParseException">The file is malformed.</exception>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out ProcComm? value)
    {
        string path = fs.ProcessPath(pid, "comm");
        if (!buffer.TryLoad(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    /// <summary>Parses the contents of a comm file. Pure.</summary>
    /// <exception cref="ProcParseException">Truncated (no final newline) or holding a NUL byte.</exception>
    public static ProcComm Parse(ReadOnlySpan<byte> text, string source)
    {
        ProcText.RequireNewlineTerminated(text, source);
        ReadOnlySpan<byte> name = text[..^1];
        int nul = name.IndexOf((byte)0);
        if (nul >= 0)
        {
            throw new ProcParseException(source, ProcText.LineOf(text, nul), "NUL byte inside the name");
        }

        return new ProcComm(Encoding.UTF8.GetString(name));
    }
}
