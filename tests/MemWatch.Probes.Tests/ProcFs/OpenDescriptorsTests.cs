using System.Diagnostics;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.ProcFs;

/// <summary>OpenDescriptors against a live process with a known set of descriptors, and on a fixture tree.</summary>
public sealed class OpenDescriptorsTests
{
    [Fact]
    public void Count_LiveProcess_EqualsTheListingAndStatSize()
    {
        // 40 descriptors beyond stdio, then exec: the set stays fixed while it sleeps.
        var start = new ProcessStartInfo("bash", ["-c", "for i in $(seq 10 49); do eval \"exec $i</dev/null\"; done; exec sleep 60"])
        {
            UseShellExecute = false,
        };
        using Process target = Process.Start(start)!;
        try
        {
            string fd = $"/proc/{target.Id}/fd";
            int listed = 0;
            for (int attempt = 0; attempt < 200 && !IsSleep(target.Id); attempt++)
            {
                Thread.Sleep(10); // waiting for bash's exec of sleep, a real process
            }

            Assert.True(IsSleep(target.Id));
            listed = Directory.GetFileSystemEntries(fd).Length;
            Assert.True(listed >= 43, $"{listed} descriptors listed");

            Assert.Equal(listed, OpenDescriptors.Count(ProcFileSystem.Default, target.Id));

            // The premise of the fast path, by an independent tool: on this kernel (>= 6.2) stat's size is the count.
            using Process stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%s", fd]) { RedirectStandardOutput = true })!;
            Assert.Equal(listed, int.Parse(stat.StandardOutput.ReadToEnd().Trim(), System.Globalization.CultureInfo.InvariantCulture));
            stat.WaitForExit();
        }
        finally
        {
            target.Kill();
            target.WaitForExit();
        }
    }

    [Fact]
    public void Count_FixtureTree_ListsTheDirectory()
    {
        string root = Directory.CreateTempSubdirectory("memwatch-fds-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "42", "fd"));
            foreach (string n in new[] { "0", "1", "2", "7" })
            {
                File.WriteAllText(Path.Combine(root, "42", "fd", n), "");
            }

            Assert.Equal(4, OpenDescriptors.Count(new ProcFileSystem(root), 42));
            Assert.Null(OpenDescriptors.Count(new ProcFileSystem(root), 43));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static bool IsSleep(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim() == "sleep";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
