using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using MemWatch.Daemon.Tests.Deploy;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Packaging;

/// <summary>
/// The image scripts/image builds offline (buildah, deploy/image/Dockerfile with this host as its libs stage): what it
/// holds, that a registry build of the same Dockerfile holds the same, and the image run as the chart's DaemonSet runs
/// it, watching and trimming a process outside the container.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class ContainerImageTests(ContainerImageFixture image) : IClassFixture<ContainerImageFixture>
{
    private const string LibDir = "usr/lib/x86_64-linux-gnu";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);

    /// <summary>The executable as published, the libraries ldd says it and libe_sqlite3.so need, OpenSSL, and nothing else.</summary>
    [Fact]
    public void ImageHoldsTheExecutableAndTheLibrariesItLoadsOnly()
    {
        var expected = new SortedSet<string>(StringComparer.Ordinal)
        {
            "etc/group", "etc/passwd", "usr/lib/memwatch/memwatch", "usr/lib/memwatch/libe_sqlite3.so",
            $"{LibDir}/libssl.so.3", $"{LibDir}/libcrypto.so.3",
        };
        foreach (string binary in new[] { "memwatch", "libe_sqlite3.so" }.Select(f => Path.Combine(image.PublishDirectory, f))
                     .Append($"/{LibDir}/libssl.so.3"))
        {
            ExternalTool.Result ldd = ExternalTool.Run("ldd", [binary]);
            Assert.True(ldd.ExitCode == 0, ldd.Output);
            foreach (Match m in LddLine().Matches(ldd.StandardOutput))
            {
                string lib = m.Groups["name"].Value;
                expected.Add(lib.StartsWith("ld-linux", StringComparison.Ordinal) ? "lib64/" + lib : $"{LibDir}/{lib}");
            }
        }

        Assert.Equal(expected, ImageFiles());
        Assert.Equal(File.ReadAllBytes(Path.Combine(image.PublishDirectory, "memwatch")), File.ReadAllBytes(Path.Combine(image.Root, "usr/lib/memwatch/memwatch")));
        Assert.Contains("memwatch:x:65532:65532:", File.ReadAllText(Path.Combine(image.Root, "etc/passwd")));

        ExternalTool.Result config = ExternalTool.Run("podman", ["image", "inspect", "--format", "{{.Config.User}} {{json .Config.Entrypoint}} {{index .Config.Labels \"org.opencontainers.image.version\"}}", image.Tag]);
        Assert.Equal($"65532:65532 [\"/usr/lib/memwatch/memwatch\"] {SourceTree.Version}", config.StandardOutput.Trim());
    }

    /// <summary>
    /// A builder with registry access builds the same Dockerfile from debian:bookworm-slim: every file the final stage
    /// copies from the libs stage must belong to a package that image has (libc6, Essential) or that the stage
    /// installs, so both builds copy the same paths; and the final stage copies exactly the files the image holds.
    /// </summary>
    [Fact]
    public void RegistryBuildOfTheDockerfileHasTheSameLayout()
    {
        string dockerfile = File.ReadAllText(SourceTree.Combine("deploy", "image", "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
        Match install = Regex.Match(dockerfile, @"apt-get install -y --no-install-recommends ([a-z0-9 .+-]+?) &&");
        Assert.True(install.Success, "the libs stage installs its packages with apt-get install");
        HashSet<string> inRegistryBuild = ["libc6", .. install.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        var copied = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match copy in Regex.Matches(dockerfile, @"^COPY (?<opts>(?:--\S+ )*)(?<args>.+)$", RegexOptions.Multiline))
        {
            string[] words = copy.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string destination = words[^1].TrimStart('/');
            bool fromLibs = copy.Groups["opts"].Value.Contains("--from=libs", StringComparison.Ordinal);
            foreach (string source in words[..^1])
            {
                if (source.EndsWith('/'))
                {
                    continue; // an empty directory (/srv) made into /tmp, /var/lib, the state directory
                }

                if (fromLibs)
                {
                    // Debian 12 is merged-/usr: dpkg records libc6's files under /lib, which is /usr/lib.
                    ExternalTool.Result owner = ExternalTool.Run("dpkg-query", ["--search", source]);
                    if (owner.ExitCode != 0 && source.StartsWith("/usr/lib/", StringComparison.Ordinal))
                    {
                        owner = ExternalTool.Run("dpkg-query", ["--search", source["/usr".Length..]]);
                    }

                    Assert.True(owner.ExitCode == 0, $"{source} belongs to no Debian package: {owner.Output}");
                    string package = owner.StandardOutput.Split(':')[0];
                    Assert.True(inRegistryBuild.Contains(package), $"{source} is in {package}, which debian:bookworm-slim lacks and the libs stage does not install");
                }

                string name = Path.GetFileName(source.Replace("${PUBLISH}", "", StringComparison.Ordinal));
                copied.Add(destination.EndsWith('/') ? destination + name : destination);
            }
        }

        Assert.Equal(copied, ImageFiles());
    }

    /// <summary>
    /// helm template's DaemonSet (introspection on, a token Secret, a rule allowing actions for one outside PID) run
    /// with podman: the process outside the container shows in /metrics with its RSS, and a trim through the API
    /// reaches it through ptrace (released: its RSS drops, seen from the host's /proc; or the engine's own
    /// stack-scan refusal) and leaves it working.
    /// </summary>
    [Fact]
    public void ChartDaemonSetContainerWatchesAndTrimsAProcessOutside()
    {
        using Workload outside = Workload.Start("seed.cc");
        outside.Send("fill 256");
        outside.Send("drop");
        long before = RssBytes(outside.Pid);
        Assert.True(before > 200L << 20, $"the seed keeps its freed blocks: RSS {before}");

        const string token = "image-test-token-0123456789";
        string targets = JsonSerializer.Serialize(new object[]
        {
            new Dictionary<string, object> { ["Name"] = "outside", ["Pid"] = outside.Pid, ["AllowActions"] = true, ["Introspect"] = true },
        });
        ExternalTool.Result render = ExternalTool.Run("helm", [
            "template", "memwatch", DeployTree.File("helm", "memwatch"),
            "--set", $"introspection.enabled=true,authSecret=memwatch-token,image.repository={image.Tag.Split(':')[0]}",
            "--set", "config.Sampling.Interval=00:00:01,config.Sampling.RollupInterval=00:00:02,config.Sampling.IntrospectInterval=00:00:01",
            "--set-json", $"config.Targets={targets}",
            "--show-only", "templates/daemonset.yaml", "--show-only", "templates/configmap.yaml"]);
        Assert.True(render.ExitCode == 0, render.Output);
        List<Dictionary<object, object>> docs = Yaml.Documents(render.StandardOutput);

        int port = FreePort();
        using ChartContainer container = ChartContainer.Start(image.Tag, docs, new Dictionary<string, string> { ["token"] = token }, port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

        string label = $"pid=\"{outside.Pid}\"";
        string metrics = Poll.Until(
            () => Scrape(http) is { } m && MetricsText.Value(m, "memwatch_process_resident_bytes", label) is not null ? m : null,
            s_timeout, container.Logs);
        double rss = MetricsText.Value(metrics, "memwatch_process_resident_bytes", label)!.Value;
        Assert.True(rss > 200L << 20, $"RSS of the outside process as exported: {rss}");
        Assert.Equal(1, MetricsText.Value(metrics, "memwatch_build_info", $"version=\"{SourceTree.Version}\""));
        using var trim = new HttpRequestMessage(HttpMethod.Post, $"/api/targets/{outside.Pid}/trim");
        trim.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using HttpResponseMessage response = http.Send(trim);
        string body = new StreamReader(response.Content.ReadAsStream()).ReadToEnd();
        JsonElement result = JsonDocument.Parse(body).RootElement;
        if (response.StatusCode == HttpStatusCode.OK)
        {
            Assert.Equal("released", result.GetProperty("result").GetString());
            long after = RssBytes(outside.Pid);
            Assert.True(after < before / 4, $"RSS of the outside process, from the host: {before} -> {after}");
        }
        else
        {
            // The engine's own refusal (main's stack scan refuses a thread with a stale allocator return address in
            // its top 8 KiB, as it does outside a container: ApiTests' trim) comes only after it seized the process
            // through ptrace and read its threads' registers and stacks across the container's boundary. Anything
            // else (permission denied, seccomp) fails here.
            Assert.True(
                response.StatusCode == HttpStatusCode.Conflict && result.GetProperty("detail").GetString()!.Contains("stack word at rsp+", StringComparison.Ordinal),
                $"{response.StatusCode}: {body}\n{container.Logs()}");
        }

        Assert.StartsWith("OK", outside.Send("drop"), StringComparison.Ordinal);
    }

    /// <summary>
    /// TLS from inside the image (libssl and libcrypto, no CA bundle): against an HTTPS server whose certificate is the
    /// configured CaFile the request goes through (the server's HTML page then fails as JSON); against another CA the
    /// connection is refused. The daemon runs as the image's default non-root user, on the host's network.
    /// </summary>
    [Fact]
    public void ImageSpeaksTlsToTheApiServerTrustingOnlyItsCaFile()
    {
        using var dir = new TempDirectory();
        foreach (string name in new[] { "server", "other" })
        {
            ExternalTool.Result req = ExternalTool.Run("openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-keyout", dir.Combine(name + ".key"), "-out", dir.Combine(name + ".pem")]);
            Assert.True(req.ExitCode == 0, req.Output);
        }

        File.WriteAllText(dir.Combine("token"), "image-test-token");
        File.SetUnixFileMode(dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        foreach (string f in Directory.GetFiles(dir.Path))
        {
            File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        int apiPort = FreePort();
        using var server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("openssl",
            ["s_server", "-accept", $"127.0.0.1:{apiPort}", "-cert", dir.Combine("server.pem"), "-key", dir.Combine("server.key"), "-www"])
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
        })!;
        try
        {
            // s_server prints ACCEPT once it listens (a probe connection would upset its one-at-a-time handshakes).
            string? line;
            do
            {
                line = server.StandardOutput.ReadLine();
            }
            while (line is not null and not "ACCEPT");

            Assert.Equal("ACCEPT", line);
            string trusted = KubernetesApiLogLine(dir, apiPort, "server.pem");
            Assert.True(trusted.Contains("JsonException", StringComparison.Ordinal), trusted);
            string untrusted = KubernetesApiLogLine(dir, apiPort, "other.pem");
            Assert.True(untrusted.Contains("The SSL connection could not be established", StringComparison.Ordinal), untrusted);
        }
        finally
        {
            server.Kill();
        }
    }

    private string KubernetesApiLogLine(TempDirectory dir, int apiPort, string caFile)
    {
        string name = "memwatch-test-" + Guid.NewGuid().ToString("N")[..12];
        ExternalTool.Result run = ExternalTool.Run("podman", [
            "run", "--detach", "--name", name, .. PodmanOnThisMachine.RunOptions(), "--network", "host",
            "--volume", $"{dir.Path}:/tls:ro",
            "--env", $"MEMWATCH_Listen=127.0.0.1:{FreePort()}", "--env", "MEMWATCH_Kubernetes__NodeName=node-a",
            "--env", $"MEMWATCH_Kubernetes__ApiServer=https://127.0.0.1:{apiPort}",
            "--env", "MEMWATCH_Kubernetes__TokenFile=/tls/token", "--env", $"MEMWATCH_Kubernetes__CaFile=/tls/{caFile}",
            image.Tag]);
        try
        {
            Assert.True(run.ExitCode == 0, run.Output);
            return Poll.Until(
                () => ExternalTool.Run("podman", ["logs", name]).Output.Split('\n').FirstOrDefault(l => l.Contains("Kubernetes API: pods of node node-a", StringComparison.Ordinal)),
                s_timeout, () => ExternalTool.Run("podman", ["logs", name]).Output);
        }
        finally
        {
            ExternalTool.Run("podman", ["rm", "--force", "--time", "5", name]);
        }
    }

    private SortedSet<string> ImageFiles() => new(
        Directory.EnumerateFiles(image.Root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(image.Root, f)),
        StringComparer.Ordinal);

    private static string? Scrape(HttpClient http)
    {
        try
        {
            return http.GetStringAsync("/metrics").Result;
        }
        catch (AggregateException e) when (e.InnerException is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static long RssBytes(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"^\s*(?:(?<name>\S+) => \S+|/\S+/(?<name>ld-linux\S+)) \(0x", RegexOptions.Multiline)]
    private static partial Regex LddLine();
}
