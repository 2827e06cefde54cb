namespace MemWatch.Daemon.Tests.Packaging;

/// <summary>
/// The <c>podman run</c> options without which no container starts on a machine like the test machine (a container
/// sandbox itself; README.md, "Container image", says what was measured):
/// <list type="bullet">
/// <item>the process lacks CAP_SYS_RESOURCE, and podman 4.3 as root writes RLIMIT_NOFILE 1048576 into every
/// container's OCI spec (also with <c>--ulimit host</c>), which the runtime cannot raise to: the limits are given
/// explicitly, no higher than what podman's own conmon holds (its RLIMIT_NPROC is 32768);</item>
/// <item>crun 1.8 refuses a hybrid cgroup layout whose v2 hierarchy has a controller (here hugetlb): runc starts it.</item>
/// </list>
/// Neither changes what the container may do: both are about starting it.
/// </summary>
public static class PodmanOnThisMachine
{
    public static IEnumerable<string> RunOptions()
    {
        long nofile = HardLimit("Max open files");
        return ["--runtime", "runc", "--ulimit", $"nofile={nofile}:{nofile}", "--ulimit", "nproc=4096:4096"];
    }

    private static long HardLimit(string name)
    {
        string line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith(name, StringComparison.Ordinal));
        string hard = line[name.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return hard == "unlimited" ? 1048576 : Math.Min(long.Parse(hard, System.Globalization.CultureInfo.InvariantCulture), 1048576);
    }
}
