using System.Diagnostics;
using System.Globalization;

namespace MemWatch.TestSupport;

/// <summary>
/// A v1 memory cgroup created for one test under /sys/fs/cgroup/memory (the host binds memory to v1) and removed on
/// Dispose, after killing the test's own processes that are still in it.
/// </summary>
public sealed class TemporaryMemoryCgroup : IDisposable
{
    public const string HierarchyRoot = "/sys/fs/cgroup/memory";

    private readonly List<int> _members = [];

    public TemporaryMemoryCgroup(ulong limitBytes)
    {
        Name = "memwatch-test-" + Guid.NewGuid().ToString("N")[..12];
        Directory = Path.Combine(HierarchyRoot, Name);
        System.IO.Directory.CreateDirectory(Directory);
        File.WriteAllText(Path.Combine(Directory, "memory.limit_in_bytes"), limitBytes.ToString(CultureInfo.InvariantCulture));
    }

    public string Name { get; }

    /// <summary>The cgroup path as /proc/PID/cgroup shows it from the host's cgroup namespace.</summary>
    public string CgroupPath => "/" + Name;

    public string Directory { get; }

    public void Add(int pid)
    {
        File.WriteAllText(Path.Combine(Directory, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
        _members.Add(pid);
    }

    public void Dispose()
    {
        foreach (int pid in _members)
        {
            try
            {
                using Process p = Process.GetProcessById(pid);
                p.Kill();
                p.WaitForExit(5000);
            }
            catch (ArgumentException)
            {
                // Already exited (the OOM test's victim).
            }
            catch (InvalidOperationException)
            {
                // Exited between lookup and kill.
            }
        }

        // The kernel releases an emptied cgroup asynchronously; rmdir answers EBUSY until then.
        for (int attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                System.IO.Directory.Delete(Directory);
                return;
            }
            catch (IOException) when (attempt < 49)
            {
                Thread.Sleep(100);
            }
        }
    }
}
