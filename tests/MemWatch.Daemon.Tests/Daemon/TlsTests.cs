using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Daemon;

/// <summary>
/// Issue 14, item 2 (remote scrape): the listener serves HTTPS with a certificate from a file, checked by real TLS
/// clients: openssl s_client verifying against a test CA, and HttpClient trusting only that CA.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memwatch-tls-").FullName;

    [Fact]
    public async Task Tls_CertificateFromFile_RealClientsVerifyIt()
    {
        string ca = Path.Combine(_dir, "ca.pem"), caKey = Path.Combine(_dir, "ca.key");
        string cert = Path.Combine(_dir, "server.pem"), key = Path.Combine(_dir, "server.key"), csr = Path.Combine(_dir, "server.csr");
        string ext = Path.Combine(_dir, "ext.cnf");
        File.WriteAllText(ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
        OpenSsl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", caKey, "-out", ca, "-days", "2", "-subj", "/CN=memwatch test CA");
        OpenSsl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1");
        OpenSsl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using DaemonProcess daemon = DaemonProcess.Start(
            config =>
            {
                config["Tls"] = new Dictionary<string, object?> { ["CertificateFile"] = cert, ["KeyFile"] = key };
                config["Sampling"] = TestConfig.FastSampling();
            },
            waitReady: false);
        var trust = X509Certificate2.CreateFromPem(File.ReadAllText(ca));
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { trust }, RevocationMode = X509RevocationMode.NoCheck },
            },
        })
        { BaseAddress = new Uri($"https://127.0.0.1:{daemon.Port}"), Timeout = TimeSpan.FromSeconds(30) };

        Poll.Until(() =>
        {
            try
            {
                return client.GetAsync("/readyz").Result.StatusCode == HttpStatusCode.OK;
            }
            catch (AggregateException)
            {
                Assert.False(daemon.HasExited, daemon.Output);
                return false;
            }
        }, TimeSpan.FromSeconds(90), () => $"no HTTPS answer:\n{daemon.Output}");
        string metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("memwatch_", metrics);

        // openssl's own client, verifying the chain and the address. -ign_eof: without it s_client hangs up when its
        // stdin ends, which can be before the answer arrives; with it, it reads until the daemon closes (Connection: close).
        var psi = new ProcessStartInfo("openssl", ["s_client", "-connect", $"127.0.0.1:{daemon.Port}", "-CAfile", ca, "-verify_return_error", "-verify_ip", "127.0.0.1", "-brief", "-ign_eof"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using Process s = Process.Start(psi)!;
        await s.StandardInput.WriteAsync("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        s.StandardInput.Close();
        Task<string> stdout = s.StandardOutput.ReadToEndAsync();
        Task<string> stderr = s.StandardError.ReadToEndAsync();
        Assert.True(s.WaitForExit(30_000), "openssl s_client did not finish");
        string all = await stderr + await stdout;
        Assert.Contains("Verification: OK", all);
        Assert.Contains("HTTP/1.1 200", all);

        // Plain HTTP on the TLS port gets no answer.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAnyAsync<Exception>(() => plain.GetStringAsync($"http://127.0.0.1:{daemon.Port}/healthz"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void OpenSsl(params string[] args)
    {
        var psi = new ProcessStartInfo("openssl", args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using Process p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"openssl {string.Join(' ', args)}: {err}");
    }
}
