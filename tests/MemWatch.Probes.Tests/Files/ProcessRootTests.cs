using System.Diagnostics;
using System.Net.Sockets;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.Files;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.Tests.Files;

/// <summary>
/// Files a target controls, opened as root beneath a directory standing for its root (issue 14, item 1): links
/// planted to redirect the open, a FIFO where a library was expected, a sparse giant, a socket of another user.
/// </summary>
public sealed class ProcessRootTests : IDisposable
{
    private readonly string _outside = Directory.CreateTempSubdirectory("memwatch-outside-").FullName;
    private readonly string _root = Directory.CreateTempSubdirectory("memwatch-root-").FullName;

    public ProcessRootTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "tmp"));
        Directory.CreateDirectory(Path.Combine(_root, "lib"));
    }

    [Fact]
    public void Connect_SocketNameIsALinkToAnotherSocket_RefusedAndNothingConnects()
    {
        // A root-only socket elsewhere, and the target's TMPDIR holding a link to it under the diagnostic socket's name.
        string secret = Path.Combine(_outside, "secret-socket");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(secret));
        listener.Listen(8);
        File.CreateSymbolicLink(Path.Combine(_root, "tmp", "dotnet-diagnostic-7-9-socket"), secret);

        var e = Assert.Throws<DotNetDiagnosticsException>(() => DiagnosticsIpc.Connect(Endpoint("/tmp/dotnet-diagnostic-7-9-socket", 0), TimeSpan.FromSeconds(2)));

        Assert.Equal(DotNetDiagnosticsFailure.Unsafe, e.Reason);
        Assert.Contains("symbolic link", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(listener.Poll(200_000, SelectMode.SelectRead), "a connection reached the socket the link pointed at");
    }

    [Fact]
    public void Connect_SocketOwnedByAnotherUser_Refused_OwnSocketConnects()
    {
        string path = Path.Combine(_root, "tmp", "dotnet-diagnostic-7-9-socket");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(8);

        var e = Assert.Throws<DotNetDiagnosticsException>(() => DiagnosticsIpc.Connect(Endpoint("/tmp/dotnet-diagnostic-7-9-socket", 65534), TimeSpan.FromSeconds(2)));
        Assert.Equal(DotNetDiagnosticsFailure.Unsafe, e.Reason);
        Assert.Contains("owned by uid 0", e.Message);
        Assert.False(listener.Poll(200_000, SelectMode.SelectRead));

        using Socket client = DiagnosticsIpc.Connect(Endpoint("/tmp/dotnet-diagnostic-7-9-socket", 0), TimeSpan.FromSeconds(2));
        Assert.True(listener.Poll(5_000_000, SelectMode.SelectRead), "the socket owned by the process's user was not connected to");
    }

    [Fact]
    public void OpenSocket_DirectoryOnTheWayIsALink_Refused()
    {
        Directory.CreateDirectory(Path.Combine(_outside, "d"));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_outside, "d", "s")));
        Directory.CreateSymbolicLink(Path.Combine(_root, "tmp", "redirect"), Path.Combine(_outside, "d"));
        using ProcessRoot root = ProcessRoot.Open(_root);

        var e = Assert.Throws<UnsafeFileException>(() => root.OpenSocket("/tmp/redirect/s", 0));

        Assert.Contains("symbolic link", e.Reason);
    }

    [Fact]
    public async Task OpenRegularFile_Fifo_RefusedWithoutWaitingForAWriter()
    {
        string fifo = Path.Combine(_root, "lib", "libc.so.6");
        using (Process mkfifo = Process.Start("mkfifo", [fifo])!)
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        using ProcessRoot root = ProcessRoot.Open(_root);
        Task<UnsafeFileException> refused = Task.Run(() => Assert.Throws<UnsafeFileException>(() => root.OpenRegularFile("/lib/libc.so.6", 1 << 30)));

        // A blocking open of a FIFO would wait for a writer for ever; a minute is far beyond any open.
        UnsafeFileException e = await refused.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Contains("FIFO, not a regular file", e.Reason);
    }

    [Fact]
    public void OpenRegularFile_SparseOrTooLarge_Refused()
    {
        string sparse = Path.Combine(_root, "lib", "libsparse.so");
        using (var f = new FileStream(sparse, FileMode.CreateNew))
        {
            f.SetLength(256L * 1024 * 1024);
        }

        using ProcessRoot root = ProcessRoot.Open(_root);

        Assert.Contains("sparse", Assert.Throws<UnsafeFileException>(() => root.OpenRegularFile("/lib/libsparse.so", 1L << 31)).Reason);
        File.WriteAllBytes(Path.Combine(_root, "lib", "small"), new byte[4096]);
        Assert.Contains("more than the 1024 allowed", Assert.Throws<UnsafeFileException>(() => root.OpenRegularFile("/lib/small", 1024)).Reason);
        using SafeFileHandle ok = root.OpenRegularFile("/lib/small", 4096);
        Assert.Equal(4096, RandomAccess.GetLength(ok));
    }

    [Fact]
    public void OpenRegularFile_LinksAndDotDotNeverLeaveTheRoot()
    {
        File.WriteAllText(Path.Combine(_outside, "host-secret"), "host");
        File.CreateSymbolicLink(Path.Combine(_root, "lib", "abs"), Path.Combine(_outside, "host-secret"));
        File.CreateSymbolicLink(Path.Combine(_root, "lib", "magic"), "/proc/1/root/etc/hostname");
        using ProcessRoot root = ProcessRoot.Open(_root);

        Assert.Contains("symbolic link", Assert.Throws<UnsafeFileException>(() => root.OpenRegularFile("/lib/abs", 1 << 20)).Reason);
        Assert.Contains("symbolic link", Assert.Throws<UnsafeFileException>(() => root.OpenRegularFile("/lib/magic", 1 << 20)).Reason);

        // ".." at the root stays at the root, as it does for the process itself.
        string relative = "/../../../../" + Path.GetRelativePath("/", Path.Combine(_outside, "host-secret"));
        Assert.Throws<FileNotFoundException>(() => root.OpenRegularFile(relative, 1 << 20));
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private DiagnosticEndpoint Endpoint(string inRoot, uint uid) =>
        new(7, 7, _root + inRoot, 9, Listening: true) { RootPath = _root, PathInRoot = inRoot, OwnerUids = (uid, uid) };
}
