using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace MemWatch.IntegrationTests.DotNet;

/// <summary>
/// Issue 14, item 1, as the hostile neighbour did it: a process of <c>nobody</c> plants, under its TMPDIR, a link named
/// like its diagnostic socket pointing at a root-only socket (the name also bound elsewhere, so that net/unix lists it);
/// <c>memwatch gc</c> run as root must refuse with one line and connect to nothing. And passive <c>inspect</c> of a real
/// .NET process connects nowhere unless asked (--dotnet).
/// </summary>
[Collection(DotNetTargetsCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DiagnosticSocketSafetyTests
{
    [Fact]
    public void Gc_SocketNameLinksToARootOnlySocket_RefusedAndNothingConnects()
    {
        string dir = Directory.CreateTempSubdirectory("memwatch-planted-").FullName;
        Process? target = null;
        try
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755
            string tmp = Path.Combine(dir, "tmp");
            string secret = Path.Combine(dir, "secret");
            string decoy = Path.Combine(dir, "decoy");
            Directory.CreateDirectory(tmp);
            Directory.CreateDirectory(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.CreateDirectory(decoy);
            Chown(tmp);

            var psi = new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "300"]) { UseShellExecute = false };
            psi.Environment["TMPDIR"] = tmp;
            target = Process.Start(psi)!;
            for (int i = 0; i < 200 && !File.ReadAllText($"/proc/{target.Id}/status").Contains("\nUid:\t65534", StringComparison.Ordinal); i++)
            {
                Thread.Sleep(50);
            }

            string stat = File.ReadAllText($"/proc/{target.Id}/stat");
            string startTime = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
            string name = $"dotnet-diagnostic-{target.Id}-{startTime}-socket";

            using var rootOnly = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            rootOnly.Bind(new UnixDomainSocketEndPoint(Path.Combine(secret, "sock")));
            rootOnly.Listen(8);
            using var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            bound.Bind(new UnixDomainSocketEndPoint(Path.Combine(decoy, name)));
            File.CreateSymbolicLink(Path.Combine(tmp, name), Path.Combine(secret, "sock"));

            MemwatchCli.Result r = MemwatchCli.Run(["gc", target.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(60));

            Assert.False(rootOnly.Poll(500_000, SelectMode.SelectRead), $"memwatch connected to the root-only socket the link pointed at:\n{r.StandardError}");
            Assert.Equal(5, r.ExitCode);
            Assert.Single(r.StandardError.TrimEnd().Split('\n'));
            Assert.Contains("refused", r.StandardError);
            Assert.Contains("symbolic link", r.StandardError);
        }
        finally
        {
            if (target is { HasExited: false })
            {
                target.Kill();
                target.WaitForExit();
            }

            target?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Inspect_DotNetTargetWithoutDotnetOption_ConnectsNowhere()
    {
        using DotNetTarget target = DotNetTarget.Start();
        string trace = Path.Combine(Path.GetTempPath(), $"memwatch-connect-{Guid.NewGuid():N}.strace");
        try
        {
            MemwatchCli.Result r = MemwatchCli.Run(
                ["inspect", target.Pid.ToString(CultureInfo.InvariantCulture), "--json"],
                TimeSpan.FromSeconds(120),
                prefix: ["strace", "-f", "-qq", "-e", "trace=connect", "-o", trace]);

            Assert.True(r.ExitCode == 0, r.StandardError);
            Assert.Contains("--dotnet reads its GC figures", r.StandardOutput);
            string[] connects = File.ReadAllLines(trace).Where(l => l.Contains("connect(", StringComparison.Ordinal)).ToArray();
            Assert.True(connects.Length == 0, "inspect without --dotnet connected:\n" + string.Join('\n', connects));
        }
        finally
        {
            File.Delete(trace);
        }
    }

    private static void Chown(string path)
    {
        using Process chown = Process.Start("chown", ["65534:65534", path])!;
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }
}
