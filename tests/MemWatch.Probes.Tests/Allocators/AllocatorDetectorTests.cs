using System.Text;
using MemWatch.Probes.Allocators;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.Allocators;

public sealed class AllocatorDetectorTests
{
    [Theory]
    [InlineData(SmapsFixtures.Glibc, AllocatorKind.Glibc, false)]
    [InlineData(SmapsFixtures.Jemalloc, AllocatorKind.Jemalloc, false)]
    [InlineData(SmapsFixtures.Tcmalloc, AllocatorKind.GperftoolsTcmalloc, false)]
    [InlineData(SmapsFixtures.DotNet, AllocatorKind.Glibc, true)]
    public void TryDetect_Fixture_FindsAllocatorFromMappedFiles(int pid, AllocatorKind kind, bool dotnet)
    {
        Assert.True(AllocatorDetector.TryDetect(SmapsFixtures.FileSystem, pid, new FileBuffer(), out AllocatorInfo? info));

        Assert.Equal(kind, info.Kind);
        Assert.Equal(dotnet, info.DotNetRuntime);
        Assert.False(info.IsStaticallyLinked);
    }

    [Fact]
    public void TryDetect_GoneProcess_ReturnsFalse()
    {
        Assert.False(AllocatorDetector.TryDetect(SmapsFixtures.FileSystem, 999_999_999, new FileBuffer(), out _));
    }

    private static AllocatorInfo Detect(string maps, Func<string, string, bool>? hasSymbol = null, string rootPrefix = "")
    {
        var detector = new AllocatorDetector(hasSymbol) { RootPrefix = rootPrefix };
        foreach (MappingHeader m in ProcMaps.Parse(Encoding.ASCII.GetBytes(maps), "maps"))
        {
            detector.Observe(m);
        }

        return detector.Complete();
    }

    private const string Exe = "55d000000000-55d000001000 r--p 00000000 fe:00 11 /usr/bin/server\n";

    [Fact]
    public void Complete_MuslLoader_IsMusl()
    {
        AllocatorInfo info = Detect(Exe + "7f0000000000-7f0000001000 r-xp 00000000 fe:00 12 /lib/ld-musl-x86_64.so.1\n");

        Assert.Equal(AllocatorKind.Musl, info.Kind);
        Assert.Equal("musl", info.Name);
    }

    [Fact]
    public void Complete_StaticJemallocSymbol_IsStaticJemallocViaRootPrefix()
    {
        var asked = new List<string>();
        AllocatorInfo info = Detect(
            Exe + "7f0000000000-7f0000001000 r-xp 00000000 fe:00 13 /usr/lib/x86_64-linux-gnu/libc.so.6\n",
            (path, symbol) =>
            {
                asked.Add(path + "!" + symbol);
                return path == "/proc/42/root/usr/bin/server" && symbol == "je_mallctl";
            },
            "/proc/42/root");

        Assert.Equal(AllocatorKind.Jemalloc, info.Kind);
        Assert.True(info.IsStaticallyLinked);
        Assert.Equal("/usr/bin/server", info.LibraryPath);
        Assert.Contains("/proc/42/root/usr/bin/server!tc_malloc", asked);
    }

    [Fact]
    public void Complete_TcmallocLibraryWithGoogleHook_IsGoogleTcmalloc()
    {
        AllocatorInfo info = Detect(
            Exe + "7f0000000000-7f0000001000 r--p 00000000 fe:00 14 /opt/lib/libtcmalloc.so\n",
            (path, symbol) => path.EndsWith("libtcmalloc.so", StringComparison.Ordinal) && symbol == "MallocExtension_Internal_GetNumericProperty");

        Assert.Equal(AllocatorKind.GoogleTcmalloc, info.Kind);
        Assert.Equal("google-tcmalloc", info.Name);
    }

    [Fact]
    public void Complete_NoLibcNoSymbols_IsUnknown()
    {
        AllocatorInfo info = Detect(Exe, (_, _) => false);

        Assert.Equal(AllocatorKind.Unknown, info.Kind);
        Assert.Null(info.LibraryPath);
    }

    [Fact]
    public void Complete_NonZeroOffsetMappingOfJemalloc_IsIgnored()
    {
        AllocatorInfo info = Detect(Exe + "7f0000000000-7f0000001000 r--p 00001000 fe:00 15 /usr/lib/libjemalloc.so.2\n");

        Assert.Equal(AllocatorKind.Unknown, info.Kind);
    }
}
