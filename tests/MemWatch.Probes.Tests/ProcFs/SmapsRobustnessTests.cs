using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

/// <summary>
/// Truncated, garbled and random input for the maps, smaps and smaps_rollup readers and the region classifier: the only
/// exception allowed is <see cref="ProcParseException"/>, and every reader must finish.
/// </summary>
public sealed class SmapsRobustnessTests
{
    private static readonly RegionClassifier s_classifier = new();

    private static int Consume(ReadOnlySpan<byte> text)
    {
        int n = 0;
        n += Attempt(text, static t =>
        {
            int c = 0;
            foreach (SmapsEntry e in Smaps.Parse(t, "smaps"))
            {
                c += e.Header.Path.Length > 0 ? 1 : 0;
            }

            return c;
        });
        n += Attempt(text, static t =>
        {
            SmapsReader r = Smaps.Parse(t, "smaps");
            return s_classifier.Classify(ref r, null, []).MappingCount & 1;
        });
        n += Attempt(text, static t => (int)(SmapsRollup.Parse(t, "smaps_rollup").RssBytes & 1));
        n += Attempt(text, static t =>
        {
            int c = 0;
            foreach (MappingHeader m in ProcMaps.Parse(t, "maps"))
            {
                c++;
            }

            return c;
        });
        return n;
    }

    private delegate int SpanFunc(ReadOnlySpan<byte> text);

    private static int Attempt(ReadOnlySpan<byte> text, SpanFunc parse)
    {
        try
        {
            return parse(text);
        }
        catch (ProcParseException e)
        {
            Assert.True(e.Line >= 0);
            return 0;
        }
    }

    [Theory]
    [InlineData(SmapsFixtures.Glibc, "smaps", 3)]
    [InlineData(SmapsFixtures.DotNet, "smaps", 41)]
    [InlineData(SmapsFixtures.Glibc, "smaps_rollup", 1)]
    [InlineData(SmapsFixtures.Jemalloc, "maps", 1)]
    public void Parsers_TruncatedAtManyOffsets_OnlyProcParseException(int pid, string file, int step)
    {
        byte[] text = SmapsFixtures.Read(pid, file);
        int cases = 0;
        for (int cut = 0; cut <= text.Length; cut += step)
        {
            Consume(text.AsSpan(0, cut));
            cases++;
        }

        Assert.True(cases > 500);
    }

    [Theory]
    [InlineData(SmapsFixtures.Glibc, "smaps", 1)]
    [InlineData(SmapsFixtures.Tcmalloc, "smaps", 2)]
    [InlineData(SmapsFixtures.Glibc, "smaps_rollup", 3)]
    [InlineData(SmapsFixtures.Jemalloc, "maps", 4)]
    public void Parsers_ByteFlips_OnlyProcParseException(int pid, string file, int seed)
    {
        byte[] original = SmapsFixtures.Read(pid, file);
        var random = new Random(seed);
        byte[] garbled = new byte[original.Length];
        ReadOnlySpan<byte> interesting = " :-\n0123456789abcdefkBx[]/"u8;
        for (int i = 0; i < 1500; i++)
        {
            original.CopyTo(garbled, 0);
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++)
            {
                int at = random.Next(garbled.Length);
                garbled[at] = random.Next(2) == 0 ? (byte)random.Next(256) : interesting[random.Next(interesting.Length)];
            }

            Consume(garbled.AsSpan(0, random.Next(garbled.Length / 2, garbled.Length + 1)));
        }
    }

    [Fact]
    public void Parsers_RandomGarbage_OnlyProcParseException()
    {
        var random = new Random(42);
        ReadOnlySpan<byte> alphabet = "0123456789abcdef-: \nkBRssSizeVmFlags[]rwxps/"u8;
        for (int i = 0; i < 3000; i++)
        {
            byte[] text = new byte[random.Next(0, 400)];
            bool ascii = random.Next(2) == 0;
            for (int j = 0; j < text.Length; j++)
            {
                text[j] = ascii ? alphabet[random.Next(alphabet.Length)] : (byte)random.Next(256);
            }

            Consume(text);
        }
    }

    [Fact]
    public void TryOpen_GarbledFileWithTinyBuffer_OnlyProcParseException()
    {
        byte[] original = SmapsFixtures.Read(SmapsFixtures.Glibc, "smaps");
        string dir = Path.Combine(Path.GetTempPath(), $"memwatch-garbled-{Environment.ProcessId}");
        Directory.CreateDirectory(Path.Combine(dir, "1"));
        var random = new Random(7);
        var smaps = new Smaps(64) { MaxRecordBytes = 4096 };
        try
        {
            for (int i = 0; i < 200; i++)
            {
                byte[] garbled = (byte[])original.Clone();
                for (int f = 0; f < 3; f++)
                {
                    garbled[random.Next(garbled.Length)] = (byte)random.Next(256);
                }

                if (i % 10 == 0)
                {
                    // A run of unknown-key lines larger than MaxRecordBytes.
                    garbled = [.. garbled[..200], .. System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("Unknown: 1 kB\n", 400)))];
                }

                File.WriteAllBytes(Path.Combine(dir, "1", "smaps"), garbled);
                Assert.True(smaps.TryOpen(new ProcFileSystem(dir), 1, out SmapsReader reader));
                try
                {
                    while (reader.MoveNext())
                    {
                    }
                }
                catch (ProcParseException e)
                {
                    // The documented outcome for garbled input.
                    Assert.True(e.Line >= 0);
                }
                finally
                {
                    reader.Dispose();
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
