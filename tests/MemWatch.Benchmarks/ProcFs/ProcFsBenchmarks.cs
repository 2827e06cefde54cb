using BenchmarkDotNet.Attributes;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Benchmarks.ProcFs;

/// <summary>
/// The per-process files of a daemon tick, read from this process's live /proc entry: the read alone
/// (FileBuffer.TryLoad) beside read + parse, and parse alone over bytes already in memory.
/// </summary>
[MemoryDiagnoser]
public class ProcFsBenchmarks
{
    private readonly FileBuffer _buffer = new();
    private readonly int _pid = Environment.ProcessId;
    private readonly ProcFileSystem _fs = ProcFileSystem.Default;
    private byte[] _status = [];
    private byte[] _stat = [];
    private byte[] _statm = [];

    [GlobalSetup]
    public void Setup()
    {
        _status = File.ReadAllBytes(_fs.ProcessPath(_pid, "status"));
        _stat = File.ReadAllBytes(_fs.ProcessPath(_pid, "stat"));
        _statm = File.ReadAllBytes(_fs.ProcessPath(_pid, "statm"));
    }

    [Benchmark]
    public bool LoadStatm() => _buffer.TryLoad(_fs.ProcessPath(_pid, "statm"));

    [Benchmark]
    public ProcStatm? ReadStatm() => ProcStatm.TryRead(_fs, _pid, _buffer, out ProcStatm? v) ? v : null;

    [Benchmark]
    public ProcStatm ParseStatm() => ProcStatm.Parse(_statm, "statm");

    [Benchmark]
    public bool LoadStat() => _buffer.TryLoad(_fs.ProcessPath(_pid, "stat"));

    [Benchmark]
    public ProcStat? ReadStat() => ProcStat.TryRead(_fs, _pid, _buffer, out ProcStat? v) ? v : null;

    [Benchmark]
    public ProcStat ParseStat() => ProcStat.Parse(_stat, "stat");

    [Benchmark]
    public bool LoadStatus() => _buffer.TryLoad(_fs.ProcessPath(_pid, "status"));

    [Benchmark]
    public ProcStatus? ReadStatus() => ProcStatus.TryRead(_fs, _pid, _buffer, out ProcStatus? v) ? v : null;

    [Benchmark]
    public ProcStatus ParseStatus() => ProcStatus.Parse(_status, "status");
}
