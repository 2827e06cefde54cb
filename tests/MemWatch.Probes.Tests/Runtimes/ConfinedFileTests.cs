using MemWatch.Probes.Runtimes;

namespace MemWatch.Probes.Tests.Runtimes;

/// <summary>
/// Reading a file inside a process's root as untrusted input (hsperfdata, /etc/passwd of a container): a symlink in
/// any component, a FIFO and an oversized file are refused; a plain file is read. Real files on a real kernel.
/// </summary>
public sealed class ConfinedFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("memwatch-confined-").FullName;

    [Fact]
    public void TryRead_RegularFile_ReadsIt()
    {
        Directory.CreateDirectory(Path.Combine(_root, "tmp", "hsperfdata_app"));
        File.WriteAllText(Path.Combine(_root, "tmp", "hsperfdata_app", "1"), "perf");

        byte[]? data = ConfinedFile.TryRead(_root, "tmp/hsperfdata_app/1", 1024, out string? problem);

        Assert.Null(problem);
        Assert.Equal("perf"u8.ToArray(), data);
    }

    [Fact]
    public void TryRead_SymlinkedDirectoryLeadingOutOfTheRoot_IsRefused()
    {
        // A container's /tmp pointing at the host's /etc: following it would read the host's files.
        string outside = Directory.CreateTempSubdirectory("memwatch-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "secret"), "host");
            File.CreateSymbolicLink(Path.Combine(_root, "tmp"), outside);

            Assert.Null(ConfinedFile.TryRead(_root, "tmp/secret", 1024, out string? problem));
            Assert.NotNull(problem);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void TryRead_SymlinkAsTheFile_IsRefused()
    {
        File.WriteAllText(Path.Combine(_root, "real"), "x");
        File.CreateSymbolicLink(Path.Combine(_root, "link"), Path.Combine(_root, "real"));

        Assert.Null(ConfinedFile.TryRead(_root, "link", 1024, out _));
    }

    [Fact]
    public void TryRead_FifoOrOversizedFile_IsRefusedWithoutBlocking()
    {
        string fifo = Path.Combine(_root, "fifo");
        using (var mk = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            mk.WaitForExit();
        }

        File.WriteAllBytes(Path.Combine(_root, "big"), new byte[4096]);

        Assert.Null(ConfinedFile.TryRead(_root, "fifo", 1024, out string? notRegular));
        Assert.Contains("not a regular file", notRegular);
        Assert.Null(ConfinedFile.TryRead(_root, "big", 1024, out string? tooBig));
        Assert.Contains("more than", tooBig);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
