namespace MemWatch.IntegrationTests.Support;

/// <summary>VmRSS of a process, read directly from /proc/PID/status (proc(5)).</summary>
internal static class ProcessMemory
{
    public static long RssBytes(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"no VmRSS for {pid}");
    }
}
