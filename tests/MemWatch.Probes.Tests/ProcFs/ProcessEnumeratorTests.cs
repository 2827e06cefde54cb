using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class ProcessEnumeratorTests
{
    [Fact]
    public void EnumerateProcessIds_LiveProc_ContainsThisProcessAndInit()
    {
        var pids = ProcessEnumerator.EnumerateProcessIds(ProcFileSystem.Default).ToHashSet();
        Assert.Contains(Environment.ProcessId, pids);
        Assert.Contains(1, pids);
        Assert.All(pids, p => Assert.True(p > 0));
    }

    [Fact]
    public void EnumerateThreadIds_LiveProc_ContainsAThreadThisTestStarted()
    {
        // /proc/thread-self links to "<pid>/task/<tid>" of the thread that resolves it.
        using var done = new ManualResetEventSlim();
        int tid = 0;
        var worker = new Thread(() =>
        {
            tid = int.Parse(Path.GetFileName(new DirectoryInfo("/proc/thread-self").LinkTarget!));
            done.Wait();
        });
        worker.Start();
        try
        {
            SpinWait.SpinUntil(() => Volatile.Read(ref tid) != 0);
            var tids = ProcessEnumerator.EnumerateThreadIds(ProcFileSystem.Default, Environment.ProcessId).ToList();
            Assert.Contains(tid, tids);
            Assert.Contains(Environment.ProcessId, tids);
            Assert.NotEqual(Environment.ProcessId, tid);
        }
        finally
        {
            done.Set();
            worker.Join();
        }
    }

    [Fact]
    public void EnumerateProcessIds_DirectoryWithOtherEntries_ReturnsOnlyIds()
    {
        string root = Directory.CreateTempSubdirectory("procfs-enum").FullName;
        try
        {
            foreach (string name in new[] { "1", "42", "2147483647", "self", "12a", "0", "2147483648", "-3", "sys" })
            {
                Directory.CreateDirectory(Path.Combine(root, name));
            }

            File.WriteAllText(Path.Combine(root, "7"), "a file named like a pid is still listed: /proc only has pid directories");

            var pids = ProcessEnumerator.EnumerateProcessIds(new ProcFileSystem(root)).Order().ToList();
            Assert.Equal([1, 7, 42, int.MaxValue], pids);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void EnumerateThreadIds_ProcessGone_Empty()
        => Assert.Empty(ProcessEnumerator.EnumerateThreadIds(ProcFileSystem.Default, int.MaxValue));

    [Fact]
    public void EnumerateProcessIds_RootMissing_Throws()
        => Assert.Throws<DirectoryNotFoundException>(() => ProcessEnumerator.EnumerateProcessIds(new ProcFileSystem("/nonexistent-proc-root")));

    [Theory]
    [InlineData("1", 1)]
    [InlineData("4194304", 4194304)]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("0", null)]
    [InlineData("", null)]
    [InlineData("2147483648", null)]
    [InlineData("99999999999", null)]
    [InlineData("+5", null)]
    [InlineData("5 ", null)]
    [InlineData("self", null)]
    [InlineData("١٢", null)]
    public void TryParseId_Name_ParsesOnlyPositiveAsciiDecimals(string name, int? expected)
    {
        bool ok = ProcessEnumerator.TryParseId(name, out int id);
        Assert.Equal(expected is not null, ok);
        Assert.Equal(expected ?? 0, id);
    }
}
