using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class ProcOomScoreTests
{
    [Theory]
    [MemberData(nameof(ProcFixtures.All), MemberType = typeof(ProcFixtures))]
    public void TryRead_CapturedProcess_MatchesCatExtraction(string fixture)
    {
        var expected = ProcFixtures.ExpectedFor(fixture);
        Assert.True(ProcOomScore.TryRead(ProcFixtures.Fs, ProcFixtures.Pid(fixture), new FileBuffer(), out ProcOomScore? o));
        Assert.Equal(expected.I32("oom.score"), o.Score);
        Assert.Equal(expected.I32("oom.adj"), o.ScoreAdj);
    }

    [Theory]
    [InlineData("-1000\n", -1000)]
    [InlineData("1000\n", 1000)]
    [InlineData("-17\n", -17)]
    public void Parse_AdjInRange_Returned(string adj, int expected)
        => Assert.Equal(expected, ProcOomScore.Parse("5\n"u8, "oom_score", Encoding.ASCII.GetBytes(adj), "oom_score_adj").ScoreAdj);

    [Theory]
    [InlineData("5\n", "1001\n", "oom_score_adj")]
    [InlineData("5\n", "-1001\n", "oom_score_adj")]
    [InlineData("5\n", "0", "oom_score_adj")]
    [InlineData("-5\n", "0\n", "oom_score")]
    [InlineData("5 5\n", "0\n", "oom_score")]
    [InlineData("", "0\n", "oom_score")]
    public void Parse_Malformed_NamesTheFile(string score, string adj, string file)
    {
        var e = Assert.Throws<ProcParseException>(
            () => ProcOomScore.Parse(Encoding.ASCII.GetBytes(score), "/proc/1/oom_score", Encoding.ASCII.GetBytes(adj), "/proc/1/oom_score_adj"));
        Assert.Equal($"/proc/1/{file}", e.File);
        Assert.StartsWith($"/proc/1/{file}:{e.Line}:", e.Message, StringComparison.Ordinal);
    }
}
