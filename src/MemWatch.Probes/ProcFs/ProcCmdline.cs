using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace MemWatch.Probes.ProcFs;

/// <summary>The arguments in <c>/proc/[pid]/cmdline</c> (proc_pid_cmdline(5)).</summary>
/// <remarks>
/// Arguments are NUL-terminated. The file is empty for kernel threads and zombies, which is not an error.
/// A process that rewrites its argument area (setproctitle, e.g. <c>postgres: checkpointer</c>) may leave a
/// single space-separated string without a final NUL; that is kept as one argument. Any byte content is valid.
/// </remarks>
public sealed record ProcCmdline
{
    private ProcCmdline(IReadOnlyList<string> arguments, string displayText)
    {
        Arguments = arguments;
        DisplayText = displayText;
    }

    /// <summary>The arguments, argv[0] first; empty for kernel threads and zombies.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>The arguments joined by single spaces, for display.</summary>
    public string DisplayText { get; }

    /// <summary>True when there are no arguments (kernel thread or zombie).</summary>
    public bool IsEmpty => Arguments.Count == 0;

    /// <summary>Reads <c>/proc/[pid]/cmdline</c>; false when the process is gone.</summary>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out ProcCmdline? value)
    {
        string path = fs.ProcessPath(pid, "cmdline");
        if (!buffer.TryLoad(path))
        {
            value = null;
            return false;
        }

        value = Parse(buffer.Span, path);
        return true;
    }

    /// <summary>Parses the contents of a cmdline file. Pure; never throws, every byte sequence is a valid cmdline.</summary>
    /// <param name="text">The file contents.</param>
    /// <param name="source">The file name, kept for symmetry with the other readers.</param>
    public static ProcCmdline Parse(ReadOnlySpan<byte> text, string source)
    {
        _ = source;
        if (text.IsEmpty)
        {
            return new ProcCmdline([], string.Empty);
        }

        ReadOnlySpan<byte> body = text[^1] == 0 ? text[..^1] : text;
        var arguments = new string[body.Count((byte)0) + 1];
        int i = 0;
        foreach (Range range in body.Split((byte)0))
        {
            arguments[i++] = Encoding.UTF8.GetString(body[range]);
        }

        return new ProcCmdline(arguments, string.Join(' ', arguments));
    }
}
