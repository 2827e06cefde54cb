using System.Globalization;

namespace MemWatch.Daemon.Tests.Kubernetes;

/// <summary>
/// A kubelet's cgroupfs-driver layout built in the host's v1 memory hierarchy, under a unique top directory:
/// <c>TOP/kubepods/burstable/pod&lt;uid&gt;/&lt;container id&gt;</c> for a target pod whose pod-level cgroup has a memory
/// limit (as the kubelet sets it), and <c>TOP/kubepods/besteffort/pod&lt;uid&gt;/&lt;container id&gt;</c> for the watcher.
/// </summary>
internal sealed class PodCgroupLayout : IDisposable
{
    public const string Hierarchy = "/sys/fs/cgroup/memory";

    public PodCgroupLayout(ulong podLimitBytes)
    {
        Top = "memwatch-k8s-" + Guid.NewGuid().ToString("N")[..10];
        PodUid = Guid.NewGuid().ToString();
        ContainerId = RandomHex();
        WatcherPodUid = Guid.NewGuid().ToString();
        WatcherContainerId = RandomHex();
        string pod = Path.Combine(Hierarchy, Top, "kubepods", "burstable", "pod" + PodUid);
        TargetDirectory = Path.Combine(pod, ContainerId);
        WatcherDirectory = Path.Combine(Hierarchy, Top, "kubepods", "besteffort", "pod" + WatcherPodUid, WatcherContainerId);
        Directory.CreateDirectory(TargetDirectory);
        Directory.CreateDirectory(WatcherDirectory);
        File.WriteAllText(Path.Combine(pod, "memory.limit_in_bytes"), podLimitBytes.ToString(CultureInfo.InvariantCulture));
    }

    public string Top { get; }

    public string PodUid { get; }

    public string ContainerId { get; }

    public string WatcherPodUid { get; }

    public string WatcherContainerId { get; }

    public string TargetDirectory { get; }

    public string WatcherDirectory { get; }

    /// <summary>The target's cgroup as the host sees it.</summary>
    public string TargetHostPath => $"/{Top}/kubepods/burstable/pod{PodUid}/{ContainerId}";

    public static void Join(string directory, int pid)
        => File.WriteAllText(Path.Combine(directory, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    public void Dispose()
    {
        // Deepest first; the kernel frees an emptied cgroup asynchronously, so rmdir may answer EBUSY for a while.
        string top = Path.Combine(Hierarchy, Top);
        if (!Directory.Exists(top))
        {
            return;
        }

        foreach (string dir in Directory.GetDirectories(top, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(top))
        {
            for (int attempt = 0; attempt < 50 && Directory.Exists(dir); attempt++)
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException)
                {
                    Thread.Sleep(100);
                }
            }
        }
    }

    private static string RandomHex() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
}
