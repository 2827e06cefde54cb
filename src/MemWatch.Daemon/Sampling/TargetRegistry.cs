using System.Collections.Concurrent;

namespace MemWatch.Daemon.Sampling;

/// <summary>The watched targets by PID, shared by the sampler (the only writer), the remediator and the HTTP API.</summary>
internal sealed class TargetRegistry
{
    private readonly ConcurrentDictionary<int, TargetState> _targets = new();
    private readonly TaskCompletionSource _firstTick = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count => _targets.Count;

    /// <summary>Completes when the sampler has finished its first tick.</summary>
    public Task FirstTick => _firstTick.Task;

    public bool TryGet(int pid, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TargetState? target) =>
        _targets.TryGetValue(pid, out target);

    /// <summary>A point-in-time list ordered by PID.</summary>
    public List<TargetState> Snapshot()
    {
        var list = new List<TargetState>(_targets.Count);
        foreach (KeyValuePair<int, TargetState> entry in _targets)
        {
            list.Add(entry.Value);
        }

        list.Sort((a, b) => a.Pid.CompareTo(b.Pid));
        return list;
    }

    internal void Add(TargetState target) => _targets[target.Pid] = target;

    internal bool Remove(int pid, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TargetState? target) =>
        _targets.TryRemove(pid, out target);

    internal IEnumerable<KeyValuePair<int, TargetState>> Entries => _targets;

    internal void MarkFirstTick() => _firstTick.TrySetResult();
}
