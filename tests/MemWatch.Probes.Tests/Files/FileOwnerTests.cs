using System.Globalization;
using MemWatch.Probes.Files;

namespace MemWatch.Probes.Tests.Files;

public sealed class FileOwnerTests
{
    [Fact]
    public void Current_IsTheEffectiveUidTheKernelReports()
    {
        // /proc/self/status: "Uid:\treal\teffective\tsaved\tfilesystem".
        string uidLine = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        uint effective = uint.Parse(uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);

        Assert.Equal(effective, FileOwner.Current);
    }

    [Fact]
    public void Current_OwnsTheFilesThisProcessCreates()
    {
        string path = Path.Combine(Path.GetTempPath(), "memwatch-fileowner-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllText(path, "x");
            using var handle = File.OpenHandle(path);
            Assert.Equal(FileOwner.Current, CheckedFile.Stat(handle, path).Uid);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
