using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Tests.Allocators;

/// <summary>
/// Marshalling only: which functions get which arguments and scratch layouts. Real behaviour is tested end to end
/// in the integration tests.
/// </summary>
public sealed class IntrospectorMarshallingTests
{
    private static readonly nint s_libc = NativeLibrary.Load("libc.so.6");

    [Fact]
    public void ReadStatistics_Glibc_PassesHiddenResultPointerAndHeapMemstreamLocations()
    {
        IAllocatorIntrospector glibc = OwnProcessIntrospector();
        Assert.Equal("glibc", glibc.Allocator);
        ulong mallinfo2 = Export("mallinfo2"), openMemstream = Export("open_memstream"), mallocInfo = Export("malloc_info");
        ulong fclose = Export("fclose"), free = Export("free"), malloc = Export("malloc");
        byte[] xml = MallinfoFixture.Xml("consolidated");
        const ulong fp = 0x5555_0000_2000, buffer = 0x5555_0000_3000, locations = 0x5555_0000_4000;

        var session = new FakeRemoteCallSession();
        session.On(mallinfo2, (args, scratch) =>
        {
            for (int i = 0; i < 10; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(scratch.AsSpan(i * 8), (ulong)(i + 1) * 1000);
            }

            return args[0];
        });
        session.On(malloc, (_, _) => locations);
        session.On(openMemstream, (_, _) => fp);
        session.On(mallocInfo, (_, _) => 0);
        session.On(fclose, (_, _) =>
        {
            // fclose writes the final buffer and size through the pointers open_memstream was given.
            byte[] loc = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(loc, buffer);
            BinaryPrimitives.WriteUInt64LittleEndian(loc.AsSpan(8), (ulong)xml.Length);
            session.Map(locations, loc);
            return 0;
        });
        session.Map(buffer, xml);

        AllocatorStatistics stats = glibc.ReadStatistics(session, TimeSpan.FromSeconds(1));

        Assert.Equal([mallinfo2, malloc, openMemstream, mallocInfo, fclose, free, free], session.Calls.Select(c => c.Function));
        (ulong _, ulong[] mArgs, int mLength, _) = session.Calls[0];
        Assert.Equal([FakeRemoteCallSession.ScratchBase], mArgs);
        Assert.Equal(80, mLength);
        Assert.Equal([16UL], session.Calls[1].Args);
        Assert.Equal([locations, locations + 8], session.Calls[2].Args);
        Assert.Equal([0UL, fp], session.Calls[3].Args);
        Assert.Equal([fp], session.Calls[4].Args);
        Assert.Equal([buffer], session.Calls[5].Args);
        Assert.Equal([locations], session.Calls[6].Args);

        Assert.Equal(1000UL, stats.Properties["mallinfo2.arena"]);
        Assert.Equal(10000UL, stats.Properties["mallinfo2.keepcost"]);
        Assert.Equal("injected", stats.Source);
        Assert.Equal(7, stats.Calls);
        Assert.Equal(107, stats.PauseMicrosecondsMax);
        Assert.Equal(101 + 102 + 103 + 104 + 105 + 106 + 107, stats.PauseMicrosecondsTotal);
        MallocInfoXml info = MallocInfoXml.Parse(xml, "x");
        Assert.Equal(info.SystemCurrentBytes - info.FastBytes - info.RestBytes + info.MmapBytes, stats.InUseBytes);
        Assert.Equal(GlibcTrimModel.Estimate(info, (ulong)Environment.SystemPageSize).ReleasableBytes, stats.ReleasableBytes);
        Assert.Equal(1, stats.Arenas);
    }

    [Fact]
    public void ReadStatistics_GlibcMemstreamFails_FreesLocationsAndThrows()
    {
        IAllocatorIntrospector glibc = OwnProcessIntrospector();
        var session = new FakeRemoteCallSession();
        session.On(Export("malloc"), (_, _) => 0x5000);
        session.On(Export("open_memstream"), (_, _) => 0);
        Assert.Throws<MemWatch.Probes.Injection.RemoteCallException>(() => glibc.ReadStatistics(session, TimeSpan.FromSeconds(1)));
        Assert.Equal([0x5000UL], Assert.Single(session.Calls, c => c.Function == Export("free")).Args);
    }

    [Fact]
    public void Release_Glibc_CallsMallocTrimWithZeroPad()
    {
        IAllocatorIntrospector glibc = OwnProcessIntrospector();
        var session = new FakeRemoteCallSession();
        session.On(Export("malloc_trim"), (_, _) => 1);
        ReleaseResult r = glibc.Release(session, TimeSpan.FromSeconds(1));
        Assert.Equal([0UL], Assert.Single(session.Calls).Args);
        Assert.Equal(ReleaseOutcome.Released, r.Outcome);

        session.On(Export("malloc_trim"), (_, _) => 0);
        Assert.Equal(ReleaseOutcome.NothingReleased, glibc.Release(session, TimeSpan.FromSeconds(1)).Outcome);
    }

    [Fact]
    public void UnsafeCodeRanges_Glibc_CoverMallocAndFreeButNotRead()
    {
        IAllocatorIntrospector glibc = OwnProcessIntrospector();
        Assert.Contains(glibc.UnsafeCodeRanges, r => r.Start <= Export("malloc") && Export("malloc") < r.End);
        Assert.Contains(glibc.UnsafeCodeRanges, r => r.Start <= Export("free") && Export("free") < r.End);
        Assert.DoesNotContain(glibc.UnsafeCodeRanges, r => r.Start <= Export("read") && Export("read") < r.End);
    }

    [Fact]
    public void MallocFunctionNames_KnownInternals_AreAllocatorCode()
    {
        foreach (string n in new[] { "_int_malloc", "__GI___libc_malloc", "malloc_consolidate", "systrim", "tcache_init", "arena_get2", "__malloc_info" })
        {
            Assert.True(GlibcIntrospector.IsMallocFunction(n), n);
        }

        Assert.False(GlibcIntrospector.IsMallocFunction("read"));
        Assert.False(GlibcIntrospector.IsMallocFunction("memcpy"));
    }

    [Fact]
    public void ReadStatistics_JemallocFake_RefreshesEpochThenReadsNamedStats()
    {
        var session = new FakeRemoteCallSession();
        const ulong mallctl = 0x7000_1000;
        var names = new List<string>();
        session.On(mallctl, (args, scratch) =>
        {
            string name = ReadName(scratch, (int)(args[0] - FakeRemoteCallSession.ScratchBase));
            names.Add(name);
            if (name == "epoch")
            {
                Assert.Equal(args[1], args[3]);
                Assert.Equal(8UL, args[4]);
                return 0;
            }

            int lenAt = (int)(args[2] - FakeRemoteCallSession.ScratchBase);
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(scratch.AsSpan(lenAt));
            int valueAt = (int)(args[1] - FakeRemoteCallSession.ScratchBase);
            ulong value = name switch { "stats.allocated" => 1000, "stats.active" => 4096, "stats.metadata" => 500, "stats.resident" => 10_000, "arenas.narenas" => 9, _ => 1 };
            if (len == 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(scratch.AsSpan(valueAt), value);
            }
            else if (len == 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(scratch.AsSpan(valueAt), (uint)value);
            }
            else
            {
                scratch[valueAt] = (byte)value;
            }

            return name == "stats.retained" ? 2UL : 0UL;
        });

        IAllocatorIntrospector jemalloc = JemallocFor(mallctl);
        AllocatorStatistics s = jemalloc.ReadStatistics(session, TimeSpan.FromSeconds(1));
        Assert.Equal("epoch", names[0]);
        Assert.Equal(1000UL, s.InUseBytes);
        Assert.Equal(10_000UL - 500 - 4096, s.ReleasableBytes);
        Assert.Equal(9, s.Arenas);
        Assert.False(s.Properties.ContainsKey("stats.retained"));
        Assert.Contains(s.Notes, n => n.Contains("stats.retained", StringComparison.Ordinal));
    }

    private static IAllocatorIntrospector JemallocFor(ulong mallctl) => new JemallocIntrospector(mallctl, []);

    private static string ReadName(byte[] scratch, int offset)
    {
        int end = Array.IndexOf(scratch, (byte)0, offset);
        return Encoding.ASCII.GetString(scratch, offset, end - offset);
    }

    private static IAllocatorIntrospector OwnProcessIntrospector()
    {
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, Environment.ProcessId, new FileBuffer(), out TargetSymbols? symbols));
        return AllocatorIntrospectors.ForTarget(symbols);
    }

    private static ulong Export(string name) => (ulong)NativeLibrary.GetExport(s_libc, name);
}
