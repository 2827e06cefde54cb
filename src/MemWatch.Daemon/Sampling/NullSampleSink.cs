using MemWatch.Daemon.Analysis;
using MemWatch.Probes.Analysis;

namespace MemWatch.Daemon.Sampling;

/// <summary>No history store wired in.</summary>
internal sealed class NullSampleSink : ISampleSink
{
    public void OnSample(TargetState target, in MemorySample sample)
    {
    }

    public void OnAnalysis(TargetState target, TargetAnalysis analysis)
    {
    }

    public void OnTargetExited(TargetState target)
    {
    }
}
