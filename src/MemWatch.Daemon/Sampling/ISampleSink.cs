using MemWatch.Daemon.Analysis;
using MemWatch.Probes.Analysis;

namespace MemWatch.Daemon.Sampling;

/// <summary>
/// The seam where the history store takes the daemon's samples (the lead wires Daemon/History to it). Called on the
/// sampler thread with the target's lock held: implementations queue and return, they never block on I/O.
/// </summary>
internal interface ISampleSink
{
    /// <summary>
    /// A new target, before its first sample: the place to resume its window from stored history. Called on the sampler
    /// thread before the target is published (no lock needed); the one call allowed to read storage.
    /// </summary>
    void OnTargetStarted(TargetState target)
    {
    }

    /// <summary>A new counters sample of a target (every Interval).</summary>
    void OnSample(TargetState target, in MemorySample sample);

    /// <summary>A new analysis of a target (every RollupInterval); the place to record verdict and forecast changes.</summary>
    void OnAnalysis(TargetState target, TargetAnalysis analysis);

    /// <summary>The target's process exited (or its PID was reused by another process).</summary>
    void OnTargetExited(TargetState target);
}
