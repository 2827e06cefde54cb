using System.Diagnostics.CodeAnalysis;
using MemWatch.Probes.Parsing;

namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The OOM killer's view of a process: <c>/proc/[pid]/oom_score</c> and <c>/proc/[pid]/oom_score_adj</c>
/// (proc_pid_oom_score(5), proc_pid_oom_score_adj(5)).
/// </summary>
/// <remarks>
/// oom_score is the badness the OOM killer would compute now, 0..2000 on current kernels (1000 + share of memory in
/// thousandths, adjusted); the highest score is killed first. oom_score_adj is the user's bias, -1000..1000,
/// where -1000 exempts the process. Both are one decimal number and a newline.
/// </remarks>
public sealed record ProcOomScore(int Score, int ScoreAdj)
{
    private const int ScoreAdjMin = -1000;
    private const int ScoreAdjMax = 1000;

    /// <summary>Reads both files; false when the process is gone.</summary>
    /// <exception cref="ProcParseException">A file is malformed.</exception>
    public static bool TryRead(ProcFileSystem fs, int pid, FileBuffer buffer, [NotNullWhen(true)] out ProcOomScore? value)
    {
        value = null;
        string scorePath = fs.ProcessPath(pid, "oom_score");
        if (!buffer.TryLoad(scorePath))
        {
            return false;
        }

        int score = ParseScore(buffer.Span, scorePath);
        string adjPath = fs.ProcessPath(pid, "oom_score_adj");
        if (!buffer.TryLoad(adjPath))
        {
            return false;
        }

        value = new ProcOomScore(score, ParseScoreAdj(buffer.Span, adjPath));
        return true;
    }

    /// <summary>Parses the contents of both files. Pure.</summary>
    /// <exception cref="ProcParseException">A file is malformed or out of range; the message names which.</exception>
    public static ProcOomScore Parse(ReadOnlySpan<byte> oomScore, string oomScoreSource, ReadOnlySpan<byte> oomScoreAdj, string oomScoreAdjSource)
        => new(ParseScore(oomScore, oomScoreSource), ParseScoreAdj(oomScoreAdj, oomScoreAdjSource));

    /// <summary>Parses an oom_score file: a non-negative decimal.</summary>
    internal static int ParseScore(ReadOnlySpan<byte> text, string source)
    {
        ReadOnlySpan<byte> number = SingleLine(text, source);
        return ProcText.TryParseInt32(number, out int v) && v >= 0
            ? v
            : throw new ProcParseException(source, 1, $"bad oom_score '{ByteParsing.Excerpt(number)}'");
    }

    /// <summary>Parses an oom_score_adj file: a decimal in -1000..1000.</summary>
    internal static int ParseScoreAdj(ReadOnlySpan<byte> text, string source)
    {
        ReadOnlySpan<byte> number = SingleLine(text, source);
        return ProcText.TryParseInt32(number, out int v) && v is >= ScoreAdjMin and <= ScoreAdjMax
            ? v
            : throw new ProcParseException(source, 1, $"bad oom_score_adj '{ByteParsing.Excerpt(number)}' (expected {ScoreAdjMin}..{ScoreAdjMax})");
    }

    private static ReadOnlySpan<byte> SingleLine(ReadOnlySpan<byte> text, string source)
    {
        ProcText.RequireNewlineTerminated(text, source);
        return text[..^1];
    }
}
