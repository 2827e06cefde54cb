using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

/// <summary>
/// Truncated, garbled and random input for every ProcFs reader: the only exception allowed is
/// <see cref="ProcParseException"/>, naming the file and a line inside it.
/// </summary>
public sealed class ProcFsRobustnessTests
{
    private const int FlipCases = 3000;
    private const int GarbageCases = 2000;

    private static readonly Dictionary<string, Action<byte[], string>> s_readers = new()
    {
        ["status"] = (b, s) => ProcStatus.Parse(b, s),
        ["stat"] = (b, s) => ProcStat.Parse(b, s),
        ["statm"] = (b, s) => ProcStatm.Parse(b, s),
        ["comm"] = (b, s) => ProcComm.Parse(b, s),
        ["cmdline"] = (b, s) => ProcCmdline.Parse(b, s),
        ["oom_score"] = (b, s) => ProcOomScore.Parse(b, s, "0\n"u8, "other/oom_score_adj"),
        ["oom_score_adj"] = (b, s) => ProcOomScore.Parse("0\n"u8, "other/oom_score", b, s),
        ["environ"] = (b, s) => ExerciseEnviron(ProcEnviron.Parse(b, s)),
        ["meminfo"] = (b, s) => Meminfo.Parse(b, s),
    };

    public static TheoryData<string> ReaderNames => new(s_readers.Keys);

    [Theory]
    [MemberData(nameof(ReaderNames))]
    public void Parse_TruncatedAtEveryOffset_SucceedsOrThrowsProcParseException(string file)
    {
        int cases = 0;
        foreach ((string source, byte[] text) in Samples(file))
        {
            for (int length = 0; length <= text.Length; length++)
            {
                Check(file, text.AsSpan(0, length).ToArray(), source, $"{source} cut at {length}");
                cases++;
            }
        }

        Assert.True(cases > 10, $"only {cases} truncation cases for {file}");
    }

    [Theory]
    [MemberData(nameof(ReaderNames))]
    public void Parse_RandomByteFlips_SucceedsOrThrowsProcParseException(string file)
    {
        var random = new Random(file.Length * 7919);
        var samples = Samples(file).ToList();
        for (int i = 0; i < FlipCases; i++)
        {
            (string source, byte[] original) = samples[i % samples.Count];
            if (original.Length == 0)
            {
                continue;
            }

            byte[] text = (byte[])original.Clone();
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++)
            {
                // Half the flips use bytes that matter to the parsers, half are arbitrary.
                text[random.Next(text.Length)] = random.Next(2) == 0 ? s_interesting[random.Next(s_interesting.Length)] : (byte)random.Next(256);
            }

            Check(file, text, source, $"{source} flip case {i}");
        }
    }

    [Theory]
    [MemberData(nameof(ReaderNames))]
    public void Parse_RandomGarbage_SucceedsOrThrowsProcParseException(string file)
    {
        var random = new Random(file.Length * 104729);
        for (int i = 0; i < GarbageCases; i++)
        {
            byte[] text = new byte[random.Next(600)];
            bool structured = i % 2 == 0;
            for (int j = 0; j < text.Length; j++)
            {
                text[j] = structured ? s_interesting[random.Next(s_interesting.Length)] : (byte)random.Next(256);
            }

            if (text.Length > 0 && i % 3 == 0)
            {
                text[^1] = (byte)'\n';
            }

            Check(file, text, $"garbage/{file}", $"{file} garbage case {i}");
        }
    }

    private static readonly byte[] s_interesting = "0123456789 \t\n:()kB-abcdefxX=\0\\"u8.ToArray();

    private static IEnumerable<(string Source, byte[] Text)> Samples(string file)
    {
        if (file == "meminfo")
        {
            yield return (ProcFixtures.MeminfoPath, File.ReadAllBytes(ProcFixtures.MeminfoPath));
            yield break;
        }

        foreach (string name in ProcFixtures.Names)
        {
            string path = ProcFixtures.PathOf(name, file);
            if (File.Exists(path))
            {
                yield return (path, File.ReadAllBytes(path));
            }
        }
    }

    private static void Check(string file, byte[] text, string source, string caseName)
    {
        try
        {
            s_readers[file](text, source);
        }
        catch (ProcParseException e)
        {
            int lines = text.Count(b => b == (byte)'\n') + 1;
            if (e.File != source || e.Line < 0 || e.Line > lines || !e.Message.StartsWith($"{source}:{e.Line}:", StringComparison.Ordinal))
            {
                Assert.Fail($"{caseName}: exception does not name the file and a line of it: {e.Message} (file {e.File}, line {e.Line})");
            }
        }
        catch (Exception e)
        {
            Assert.Fail($"{caseName}: {e.GetType().Name}: {e.Message}");
        }
    }

    private static void ExerciseEnviron(ProcEnviron env)
    {
        foreach (string name in new[] { "PATH", "MALLOC_CONF", "A", "kB" })
        {
            env.TryGetValue(name, out string? _);
        }

        env.GetVariablesWithPrefix("TCMALLOC_");
        env.GetVariablesWithPrefix(string.Empty);
    }
}
