using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Tests.Injection;

/// <summary>The /proc readers of the injector on real captures (Fixtures/injection), and on garbled input.</summary>
public sealed class InjectionReaderTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "injection", name);

    private static byte[] Bytes(string name) => File.ReadAllBytes(Fixture(name));

    [Fact]
    public void ThreadStatusParse_UntracedAndTracedCaptures_TracerPidFromStatusLine()
    {
        // Values checked with grep on the captures: TracerPid 0, then 25154 (the strace attached for the capture).
        ThreadStatus free = ThreadStatus.Parse(Bytes("inject_target.status"), "inject_target.status");
        ThreadStatus traced = ThreadStatus.Parse(Bytes("inject_target.traced.status"), "inject_target.traced.status");
        Assert.Equal(0, free.TracerPid);
        Assert.Equal(25154, traced.TracerPid);
        Assert.Equal(0UL, free.BlockedSignals);
        Assert.Equal(0, free.SeccompMode);
        Assert.Equal(0, free.RealUid);
        Assert.False(free.ShadowStackEnabled);
    }

    [Fact]
    public void ThreadStatusParse_ShadowStackAndMask_Parsed()
    {
        string text = "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nTracerPid:\t0\nSigBlk:\t0000000000010002\nx86_Thread_features:\tshstk wrss\n";
        ThreadStatus s = ThreadStatus.Parse(System.Text.Encoding.ASCII.GetBytes(text), "test");
        Assert.True(s.ShadowStackEnabled);
        Assert.Equal(0x10002UL, s.BlockedSignals);
        Assert.Equal(1000, s.RealUid);
        Assert.Null(s.SeccompMode);
    }

    [Fact]
    public void ThreadStatusParse_MissingTracerPid_Throws()
    {
        Assert.Throws<ProcParseException>(() => ThreadStatus.Parse("Uid:\t0\t0\t0\t0\nSigBlk:\t0\n"u8, "test"));
    }

    [Fact]
    public void ThreadStatParseState_VecThreadCapture_SleepingLikeAwk()
    {
        // awk '{print $3}' on the capture prints S.
        Assert.Equal('S', ThreadStat.ParseState(Bytes("inject_target.vec.stat"), "inject_target.vec.stat"));
        Assert.Equal('R', ThreadStat.ParseState("42 (a) b) c) R 1 2"u8, "test"));
    }

    [Fact]
    public void TargetMapsParse_Capture_MatchesAwk()
    {
        // awk on the capture: 32 lines, 5 executable, libc text 7f047f6dc000-7f047f832000 at offset 0x26000 inode 332096,
        // [stack] 7ffde52d4000-7ffde52f5000.
        TargetMaps maps = TargetMaps.Parse(Bytes("inject_target.maps"), "inject_target.maps");
        Assert.Equal(32, maps.Mappings.Count);
        Assert.Equal(5, maps.Mappings.Count(m => m.Executable));
        TargetMapping libc = maps.Mappings.Single(m => m.Executable && m.Path!.EndsWith("libc.so.6", StringComparison.Ordinal));
        Assert.Equal(0x7f047f6dc000UL, libc.Start);
        Assert.Equal(0x7f047f832000UL, libc.End);
        Assert.Equal(0x26000UL, libc.Offset);
        Assert.Equal(332096UL, libc.Inode);
        Assert.Equal("fe:00", libc.Device);
        TargetMapping? stack = maps.Find(0x7ffde52f4ff8);
        Assert.NotNull(stack);
        Assert.True(stack.Value.IsMainStack);
        Assert.Equal(0x7ffde52d4000UL, stack.Value.Start);
        Assert.Null(maps.Find(0x1000));
        Assert.Equal(libc, maps.Find(0x7f047f6dc000));
        Assert.NotEqual(libc.Start, maps.Find(0x7f047f832000)?.Start); // End is exclusive
    }

    [Fact]
    public void MappedFileParseMaps_Capture_FileBackedLinesOnlyLikeAwk()
    {
        // awk '$5 != 0 && $6 ~ /^\//' on the capture: 15 file-backed lines, 3 of them executable.
        List<MemWatch.Probes.Symbols.MappedFile> files = MemWatch.Probes.Symbols.MappedFile.ParseMaps(Bytes("inject_target.maps"), "inject_target.maps");
        Assert.Equal(15, files.Count);
        Assert.Equal(3, files.Count(f => f.Executable));
        MemWatch.Probes.Symbols.MappedFile libcText = files.Single(f => f.Executable && f.Path.EndsWith("libc.so.6", StringComparison.Ordinal));
        Assert.Equal(0x7f047f6dc000UL, libcText.Start);
        Assert.Equal(0x26000UL, libcText.FileOffset);
        Assert.Equal("fe:00", libcText.Device);
        Assert.Equal("/usr/lib/x86_64-linux-gnu/libc.so.6", libcText.Path);
    }

    [Fact]
    public void Readers_TruncatedGarbledRandomInput_OnlyProcParseException()
    {
        var random = new Random(20251121);
        (string Name, Action<byte[]> Parse)[] readers =
        [
            ("inject_target.status", b => ThreadStatus.Parse(b, "fuzz")),
            ("inject_target.traced.status", b => ThreadStatus.Parse(b, "fuzz")),
            ("inject_target.vec.stat", b => ThreadStat.ParseState(b, "fuzz")),
            ("inject_target.maps", b => TargetMaps.Parse(b, "fuzz").Find((ulong)random.NextInt64())),
            ("inject_target.maps", b => MemWatch.Probes.Symbols.MappedFile.ParseMaps(b, "fuzz")),
        ];
        int cases = 0;
        foreach ((string name, Action<byte[]> parse) in readers)
        {
            byte[] original = Bytes(name);
            for (int i = 0; i < 1500; i++)
            {
                byte[] input = Mutate(original, random, i);
                try
                {
                    parse(input);
                }
                catch (ProcParseException)
                {
                    // The one allowed failure.
                }

                cases++;
            }
        }

        Assert.Equal(7500, cases);
    }

    private static byte[] Mutate(byte[] original, Random random, int i)
    {
        switch (i % 5)
        {
            case 0:
                return original[..random.Next(original.Length + 1)];
            case 1:
            {
                byte[] b = (byte[])original.Clone();
                for (int k = 0; k < 1 + random.Next(8); k++)
                {
                    b[random.Next(b.Length)] = (byte)random.Next(256);
                }

                return b;
            }

            case 2:
            {
                byte[] b = new byte[random.Next(512)];
                random.NextBytes(b);
                return b;
            }

            case 3:
            {
                byte[] b = (byte[])original.Clone();
                const string specials = ":\t\n -)(x0f9";
                for (int k = 0; k < 1 + random.Next(8); k++)
                {
                    b[random.Next(b.Length)] = (byte)specials[random.Next(specials.Length)];
                }

                return b;
            }

            default:
            {
                int cut = random.Next(original.Length);
                byte[] junk = new byte[random.Next(64)];
                random.NextBytes(junk);
                return [.. original[..cut], .. junk, .. original[cut..]];
            }
        }
    }
}
