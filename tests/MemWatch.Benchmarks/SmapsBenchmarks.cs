using BenchmarkDotNet.Attributes;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Benchmarks;

/// <summary>
/// /proc/PID/smaps of a process with about 60,000 mappings and of a small one: (a) the kernel producing the file alone,
/// read into a reusable buffer of the same size as <see cref="Smaps"/>'s and discarded; (b) read and parse with
/// <see cref="Smaps"/>; (c) read, parse and classify with <see cref="RegionClassifier"/>.
/// </summary>
[MemoryDiagnoser]
public class SmapsBenchmarks
{
    private readonly byte[] _buffer = new byte[Smaps.DefaultBufferBytes];
    private readonly Smaps _smaps = new();
    private readonly RegionClassifier _classifier = new();
    private MappingsWorkload? _workload;
    private string _path = "";

    /// <summary>Pages mapped by the workload with alternating protections: that many mappings, plus its libraries.</summary>
    [Params(60_000, 16)]
    public int Mappings { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _workload = MappingsWorkload.Start(Mappings);
        _path = ProcFileSystem.Default.ProcessPath(_workload.Pid, "smaps");
    }

    [GlobalCleanup]
    public void Cleanup() => _workload?.Dispose();

    [Benchmark(Baseline = true)]
    public long KernelRead()
    {
        using SafeFileHandle handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        long offset = 0;
        int n;
        while ((n = RandomAccess.Read(handle, _buffer, offset)) > 0)
        {
            offset += n;
        }

        return offset;
    }

    [Benchmark]
    public ulong ReadParse()
    {
        if (!_smaps.TryOpen(ProcFileSystem.Default, _workload!.Pid, out SmapsReader reader))
        {
            throw new InvalidOperationException("workload exited");
        }

        ulong rss = 0;
        foreach (SmapsEntry e in reader)
        {
            rss += e.Fields.RssBytes;
        }

        return rss;
    }

    [Benchmark]
    public ulong ReadParseClassify()
    {
        if (!_classifier.TryClassify(ProcFileSystem.Default, _workload!.Pid, out MemoryLayout? layout))
        {
            throw new InvalidOperationException("workload exited");
        }

        return layout.RssBytes;
    }
}
