using System.Text;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.DotNet;

/// <summary>
/// The locator over a composed /proc tree: status, stat and environ captured from a real .NET process (the dotnet
/// fixture), with root/TMPDIR holding candidate socket names (plain files) and a composed net/unix.
/// </summary>
public sealed class DiagnosticEndpointLocatorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("memwatch-locator-").FullName;
    private readonly int _pid = ProcFixtures.Pid("dotnet");
    private readonly ulong _startTime;

    public DiagnosticEndpointLocatorTests()
    {
        string dir = Path.Combine(_root, _pid.ToString());
        Directory.CreateDirectory(Path.Combine(dir, "net"));
        foreach (string file in new[] { "status", "stat", "environ" })
        {
            File.Copy(ProcFixtures.PathOf("dotnet", file), Path.Combine(dir, file));
        }

        Assert.True(ProcStat.TryRead(ProcFixtures.Fs, _pid, new FileBuffer(), out ProcStat? stat));
        _startTime = stat.StartTimeTicks;
    }

    private ProcFileSystem Fs => new(_root);

    private string ProcessDir => Path.Combine(_root, _pid.ToString());

    [Fact]
    public void TryLocate_PicksTheSocketKeyedByStartTime_OverStaleOnes()
    {
        string live = Socket("/tmp", _pid, _startTime);
        Socket("/tmp", _pid, _startTime + 1000);
        Socket("/tmp", _pid, _startTime - 1000);
        Socket("/tmp", _pid + 1, _startTime);
        NetUnix($"/tmp/dotnet-diagnostic-{_pid}-{_startTime}-socket", $"/tmp/dotnet-diagnostic-{_pid}-{_startTime + 1000}-socket");

        Assert.True(new DiagnosticEndpointLocator(Fs).TryLocate(_pid, out DiagnosticEndpoint? e));

        Assert.Equal(new DiagnosticEndpoint(_pid, _pid, live, _startTime, Listening: true), e with { RootPath = null, PathInRoot = null, OwnerUids = null });
        Assert.Equal($"/tmp/dotnet-diagnostic-{_pid}-{_startTime}-socket", e.PathInRoot);
    }

    [Fact]
    public void TryLocate_NoKeyMatches_TakesTheNewest()
    {
        Socket("/tmp", _pid, 5);
        string newest = Socket("/tmp", _pid, 7);
        NetUnix($"/tmp/dotnet-diagnostic-{_pid}-7-socket");

        Assert.True(new DiagnosticEndpointLocator(Fs).TryLocate(_pid, out DiagnosticEndpoint? e));

        Assert.Equal(newest, e.SocketPath);
        Assert.Equal(7UL, e.DisambiguationKey);
    }

    [Fact]
    public void TryLocate_InContainer_UsesTheInnermostNSpid()
    {
        string status = File.ReadAllText(Path.Combine(ProcessDir, "status"));
        File.WriteAllText(Path.Combine(ProcessDir, "status"), status.Replace($"NSpid:\t{_pid}\n", $"NSpid:\t{_pid}\t1\n", StringComparison.Ordinal));
        Socket("/tmp", _pid, _startTime);
        string inner = Socket("/tmp", 1, _startTime);
        NetUnix($"/tmp/dotnet-diagnostic-1-{_startTime}-socket");

        Assert.True(new DiagnosticEndpointLocator(Fs).TryLocate(_pid, out DiagnosticEndpoint? e));

        Assert.Equal(inner, e.SocketPath);
        Assert.Equal(1, e.NamespacePid);
        Assert.Equal(_pid, e.Pid);
    }

    [Fact]
    public void TryLocate_TmpdirFromEnviron()
    {
        File.WriteAllBytes(Path.Combine(ProcessDir, "environ"), Encoding.UTF8.GetBytes("PATH=/usr/bin\0TMPDIR=/var/tmp/app/\0"));
        Socket("/tmp", _pid, _startTime);
        string socket = Socket("/var/tmp/app", _pid, _startTime);
        NetUnix($"/var/tmp/app/dotnet-diagnostic-{_pid}-{_startTime}-socket");

        Assert.True(new DiagnosticEndpointLocator(Fs).TryLocate(_pid, out DiagnosticEndpoint? e));

        Assert.Equal(socket, e.SocketPath);
    }

    [Fact]
    public void TryLocate_SocketFileNotBound_IsStale()
    {
        Socket("/tmp", _pid, _startTime);
        NetUnix("/tmp/other.sock", "@/abstract/name");

        Assert.False(new DiagnosticEndpointLocator(Fs).TryLocate(_pid, out _));
    }

    [Fact]
    public void TryLocate_NetUnixUnreadable_FoundButNotConfirmed()
    {
        string socket = Socket("/tmp", _pid, _startTime);

        Assert.True(new DiagnosticEndpointLocator(Fs).TryLocate(_pid, out DiagnosticEndpoint? e));

        Assert.Equal(socket, e.SocketPath);
        Assert.False(e.Listening);
    }

    [Fact]
    public void TryLocate_NoSocketNoRootOrNoProcess_False()
    {
        var locator = new DiagnosticEndpointLocator(Fs);
        Assert.False(locator.TryLocate(_pid, out _));
        Directory.CreateDirectory(Path.Combine(ProcessDir, "root", "tmp"));
        File.WriteAllText(Path.Combine(ProcessDir, "root", "tmp", $"dotnet-diagnostic-{_pid}-x-socket"), "");
        Assert.False(locator.TryLocate(_pid, out _));
        Assert.False(locator.TryLocate(_pid + 1, out _));
    }

    [Theory]
    [InlineData("dotnet-diagnostic-42-123456-socket", true, 42, 123456UL)]
    [InlineData("dotnet-diagnostic-1-0-socket", true, 1, 0UL)]
    [InlineData("dotnet-diagnostic-42-socket", false, 0, 0UL)]
    [InlineData("dotnet-diagnostic--1-5-socket", false, 0, 0UL)]
    [InlineData("dotnet-diagnostic-0-5-socket", false, 0, 0UL)]
    [InlineData("dotnet-diagnostic-42-12a-socket", false, 0, 0UL)]
    [InlineData("dotnet-diagnostic-42-5-socket.lock", false, 0, 0UL)]
    [InlineData("dotnet-diagnostic-99999999999-5-socket", false, 0, 0UL)]
    public void TryParseSocketName(string name, bool ok, int pid, ulong key)
    {
        Assert.Equal(ok, DiagnosticEndpointLocator.TryParseSocketName(name, out int p, out ulong k));
        if (ok)
        {
            Assert.Equal(pid, p);
            Assert.Equal(key, k);
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Socket(string tmpDir, int pid, ulong key)
    {
        string dir = Path.Combine(ProcessDir, "root") + tmpDir;
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"dotnet-diagnostic-{pid}-{key}-socket");
        File.WriteAllText(path, "");
        return path;
    }

    /// <summary>/proc/PID/net/unix as the kernel writes it, one bound socket per path.</summary>
    private void NetUnix(params string[] paths)
    {
        var text = new StringBuilder("Num       RefCount Protocol Flags    Type St Inode Path\n");
        int inode = 30000;
        foreach (string p in paths)
        {
            text.Append("0000000000000000: 00000002 00000000 00010000 0001 01 ").Append(inode++).Append(' ').Append(p).Append('\n');
        }

        text.Append("0000000000000000: 00000003 00000000 00000000 0001 03 29999\n");
        File.WriteAllText(Path.Combine(ProcessDir, "net", "unix"), text.ToString());
    }
}
