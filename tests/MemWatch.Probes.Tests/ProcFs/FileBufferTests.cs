using System.Diagnostics;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.ProcFs;

/// <summary>
/// FileBuffer reads with plain open/read/close: whole files of any length, gone files, errors with their errno, and
/// the single-show shortcut (no end-of-file read) giving the same bytes as a read to end of file.
/// </summary>
public sealed class FileBufferTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memwatch-filebuffer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(100_000)]
    public void TryLoad_RegularFileOfAnyLength_ReturnsItsBytes(int length)
    {
        byte[] content = new byte[length];
        new Random(length).NextBytes(content);
        string path = Path.Combine(_dir, "f");
        File.WriteAllBytes(path, content);

        var buffer = new FileBuffer(initialCapacity: 256);
        Assert.True(buffer.TryLoad(path));
        Assert.Equal(content, buffer.Span.ToArray());
        Assert.True(buffer.TryLoadSingleShow(path));
        Assert.Equal(content, buffer.Span.ToArray());
    }

    [Fact]
    public void TryLoad_MissingFile_ReturnsFalseAndEmpty()
    {
        var buffer = new FileBuffer();
        Assert.True(buffer.TryLoad("/proc/self/status"));
        Assert.False(buffer.TryLoad(Path.Combine(_dir, "missing")));
        Assert.Equal(0, buffer.Span.Length);
        Assert.False(buffer.TryLoadSingleShow(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void TryLoad_Directory_ThrowsIOExceptionWithErrno()
    {
        // open(O_RDONLY) of a directory succeeds; read fails with EISDIR (21).
        IOException e = Assert.Throws<IOException>(() => new FileBuffer().TryLoad(_dir));
        Assert.Equal(21, e.HResult);
        Assert.Contains(_dir, e.Message);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void TryLoad_NoReadPermission_ThrowsUnauthorizedAccess()
    {
        string path = Path.Combine(_dir, "secret");
        File.WriteAllText(path, "x\n");
        File.SetUnixFileMode(path, UnixFileMode.None);
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);

        UnprivilegedFiles.Run(() =>
        {
            UnauthorizedAccessException e = Assert.Throws<UnauthorizedAccessException>(() => new FileBuffer().TryLoad(path));
            Assert.Contains(path, e.Message);
            Assert.Throws<UnauthorizedAccessException>(() => new FileBuffer().TryLoadSingleShow(path));
        });

        // The same file as root (this thread kept its capabilities): readable.
        Assert.True(new FileBuffer().TryLoad(path));
    }

    [Fact]
    public void TryLoad_FileLargerThanMaxBytes_ThrowsProcParseException()
    {
        string path = Path.Combine(_dir, "big");
        File.WriteAllBytes(path, new byte[5000]);
        var buffer = new FileBuffer(initialCapacity: 256) { MaxBytes = 4096 };
        Assert.Throws<ProcParseException>(() => buffer.TryLoad(path));
    }

    [Fact]
    public void TryLoad_MultiRecordProcFileLongerThanAPage_ReadsToTheEnd()
    {
        // This test process maps hundreds of files: its maps is many pages, and the kernel returns about a page per
        // read, so anything that stopped at a short read would lose the rest.
        var buffer = new FileBuffer(initialCapacity: 256);
        Assert.True(buffer.TryLoad("/proc/self/maps"));
        Assert.True(buffer.Span.Length > 3 * Environment.SystemPageSize, $"maps is only {buffer.Span.Length} bytes");
        byte[] expected = File.ReadAllBytes("/proc/self/maps");
        int expectedLines = expected.Count(b => b == (byte)'\n');
        int lines = buffer.Span.Count((byte)'\n');

        // The runtime may map or unmap something between the two reads: allow a few lines either way.
        Assert.InRange(lines, expectedLines - 8, expectedLines + 8);
        Assert.Equal((byte)'\n', buffer.Span[^1]);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("stat")]
    [InlineData("statm")]
    [InlineData("smaps_rollup")]
    public void TryLoadSingleShow_SleepingProcess_SameBytesAsReadToEnd(string file)
    {
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            string path = $"/proc/{sleeper.Id}/{file}";
            WaitUntilSleeping(sleeper.Id);

            // A 256-byte start: status (about 1.5 KB) and smaps_rollup need the buffer to grow between reads.
            var single = new FileBuffer(initialCapacity: 256);
            var whole = new FileBuffer(initialCapacity: 256);
            Assert.True(single.TryLoadSingleShow(path));
            Assert.True(whole.TryLoad(path));
            Assert.Equal(whole.Span.ToArray(), single.Span.ToArray());
            Assert.Equal((byte)'\n', single.Span[^1]);
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }

    [Fact]
    public void TryLoadSingleShow_ProcessGone_ReturnsFalse()
    {
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        string path = $"/proc/{sleeper.Id}/status";
        sleeper.Kill();
        sleeper.WaitForExit();
        Assert.False(new FileBuffer().TryLoadSingleShow(path));
    }

    private static void WaitUntilSleeping(int pid)
    {
        // Until it sleeps, its counters (and so its stat line) may still change between two reads.
        var buffer = new FileBuffer();
        for (int i = 0; i < 500; i++)
        {
            if (ProcStat.TryRead(ProcFileSystem.Default, pid, buffer, out ProcStat? stat) && stat.State == 'S')
            {
                Thread.Sleep(50);
                return;
            }

            Thread.Sleep(10);
        }

        throw new TimeoutException($"sleep {pid} never went to sleep");
    }
}
