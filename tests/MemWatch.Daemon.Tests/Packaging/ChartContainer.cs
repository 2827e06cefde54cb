using MemWatch.Daemon.Tests.Deploy;

namespace MemWatch.Daemon.Tests.Packaging;

/// <summary>
/// Runs an image as the chart's DaemonSet runs its container: the pod spec that <c>helm template</c> rendered becomes
/// <c>podman run</c> options (host PID namespace, user, capabilities, read-only root, no new privileges, environment,
/// port, and every volume mount: ConfigMap and Secret as files, emptyDirs, the host's cgroup tree read-only).
/// A field it does not know how to translate fails the test rather than being left out.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ChartContainer : IDisposable
{
    private readonly TempDirectory _volumes = new();

    private ChartContainer(string name)
    {
        Name = name;
    }

    public string Name { get; }

    /// <param name="docs">The rendered manifests (one DaemonSet, its ConfigMap).</param>
    /// <param name="secretFiles">The files of the Secret volume, if the chart mounts one.</param>
    /// <param name="hostPort">The loopback port the container's port is published on.</param>
    public static ChartContainer Start(string image, List<Dictionary<object, object>> docs, IReadOnlyDictionary<string, string> secretFiles, int hostPort)
    {
        var c = new ChartContainer("memwatch-test-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            List<string> args = ["run", "--detach", "--name", c.Name, .. PodmanOnThisMachine.RunOptions()];
            Dictionary<object, object> pod = Yaml.Map(Assert.Single(docs, d => Yaml.Text(d, "kind") == "DaemonSet"), "spec", "template", "spec");
            Dictionary<object, object> configMap = Assert.Single(docs, d => Yaml.Text(d, "kind") == "ConfigMap");
            var container = (Dictionary<object, object>)Assert.Single(Yaml.List(pod, "containers"));

            if (pod.TryGetValue("hostPID", out object? hostPid) && hostPid is "true")
            {
                args.AddRange(["--pid", "host"]);
            }

            c.AddSecurityContext(args, Yaml.Map(container, "securityContext"));
            foreach (Dictionary<object, object> env in Yaml.List(container, "env").Cast<Dictionary<object, object>>())
            {
                args.AddRange(["--env", $"{Yaml.Text(env, "name")}={EnvValue(env)}"]);
            }

            foreach (Dictionary<object, object> port in Yaml.List(container, "ports").Cast<Dictionary<object, object>>())
            {
                args.AddRange(["--publish", $"127.0.0.1:{hostPort}:{Yaml.Text(port, "containerPort")}"]);
            }

            Dictionary<string, Dictionary<object, object>> volumes = Yaml.List(pod, "volumes").Cast<Dictionary<object, object>>()
                .ToDictionary(v => Yaml.Text(v, "name"));
            foreach (Dictionary<object, object> mount in Yaml.List(container, "volumeMounts").Cast<Dictionary<object, object>>())
            {
                args.AddRange(c.Mount(mount, volumes[Yaml.Text(mount, "name")], configMap, secretFiles));
            }

            args.Add(image);
            args.AddRange(Yaml.List(container, "args").Cast<string>());
            ExternalTool.Result run = ExternalTool.Run("podman", args);
            Assert.True(run.ExitCode == 0, $"podman {string.Join(' ', args)}\n{run.Output}");
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    public string Logs() => ExternalTool.Run("podman", ["logs", Name]).Output;

    public void Dispose()
    {
        ExternalTool.Run("podman", ["rm", "--force", "--time", "5", Name]);
        _volumes.Dispose();
    }

    private void AddSecurityContext(List<string> args, Dictionary<object, object> sc)
    {
        foreach ((object key, object value) in sc)
        {
            switch (key, value)
            {
                case ("runAsUser", string uid):
                    args.AddRange(["--user", uid]);
                    break;
                case ("runAsNonRoot", _):
                    break; // a check of runAsUser, which is translated above
                case ("privileged", "false"):
                    break;
                case ("allowPrivilegeEscalation", "false"):
                    args.AddRange(["--security-opt", "no-new-privileges"]);
                    break;
                case ("readOnlyRootFilesystem", "true"):
                    // The chart's /tmp is its own emptyDir: podman adds none of its own.
                    args.AddRange(["--read-only", "--read-only-tmpfs=false"]);
                    break;
                case ("seccompProfile", Dictionary<object, object> profile) when Yaml.Text(profile, "type") == "RuntimeDefault":
                    break; // podman's default profile is the runtime default
                case ("capabilities", Dictionary<object, object> caps):
                    foreach (string cap in caps.TryGetValue("drop", out object? drop) ? ((List<object>)drop).Cast<string>() : [])
                    {
                        args.AddRange(["--cap-drop", cap]);
                    }

                    foreach (string cap in caps.TryGetValue("add", out object? add) ? ((List<object>)add).Cast<string>() : [])
                    {
                        args.AddRange(["--cap-add", cap]);
                    }

                    break;
                default:
                    Assert.Fail($"securityContext.{key}: {value} is not translated to podman");
                    break;
            }
        }
    }

    private static string EnvValue(Dictionary<object, object> env)
    {
        if (env.TryGetValue("value", out object? value))
        {
            return (string)value;
        }

        string field = Yaml.Text(env, "valueFrom", "fieldRef", "fieldPath");
        return field switch
        {
            "spec.nodeName" => "memwatch-test-node",
            "metadata.name" => "memwatch-test-pod",
            "metadata.namespace" => "memwatch-test",
            _ => throw new InvalidOperationException($"downward API field {field} is not translated"),
        };
    }

    private IEnumerable<string> Mount(
        Dictionary<object, object> mount, Dictionary<object, object> volume, Dictionary<object, object> configMap, IReadOnlyDictionary<string, string> secretFiles)
    {
        string target = Yaml.Text(mount, "mountPath");
        bool readOnly = mount.TryGetValue("readOnly", out object? ro) && ro is "true";
        string options = (readOnly ? "ro" : "rw") + (mount.TryGetValue("mountPropagation", out object? p) && p is "HostToContainer" ? ",rslave" : "");
        string name = Yaml.Text(volume, "name");

        if (volume.ContainsKey("emptyDir") && Yaml.Map(volume, "emptyDir").TryGetValue("medium", out object? medium) && medium is "Memory")
        {
            return ["--tmpfs", $"{target}:rw,size={Yaml.Text(volume, "emptyDir", "sizeLimit").Replace("Mi", "m", StringComparison.Ordinal)}"];
        }

        string source = _volumes.Combine(name);
        if (volume.ContainsKey("hostPath"))
        {
            source = Yaml.Text(volume, "hostPath", "path");
        }
        else if (volume.ContainsKey("configMap"))
        {
            Directory.CreateDirectory(source);
            foreach ((object file, object content) in Yaml.Map(configMap, "data"))
            {
                File.WriteAllText(Path.Combine(source, (string)file), (string)content);
            }
        }
        else if (volume.ContainsKey("secret"))
        {
            Directory.CreateDirectory(source);
            string modeText = Yaml.Text(volume, "secret", "defaultMode");
            int mode = Convert.ToInt32(modeText, modeText.StartsWith('0') ? 8 : 10);
            foreach ((string file, string content) in secretFiles)
            {
                File.WriteAllText(Path.Combine(source, file), content);
                File.SetUnixFileMode(Path.Combine(source, file), (UnixFileMode)mode);
            }
        }
        else if (volume.ContainsKey("emptyDir"))
        {
            Directory.CreateDirectory(source);
        }
        else
        {
            throw new InvalidOperationException($"volume {name} is of a kind not translated to podman");
        }

        return ["--volume", $"{source}:{target}:{options}"];
    }
}
