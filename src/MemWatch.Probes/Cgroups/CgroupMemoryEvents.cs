namespace MemWatch.Probes.Cgroups;

/// <summary>
/// Memory limit events of a cgroup: v2 <c>memory.events</c> (hierarchical; cgroup-v2.rst) or v1
/// <c>memory.oom_control</c> (cgroup-v1/memory.rst section 10). Null means the kernel does not report that counter.
/// </summary>
/// <param name="OomKills">Processes in the cgroup killed by any OOM killer (v2 <c>oom_kill</c>; v1 <c>oom_kill</c>, kernel 4.13+).</param>
/// <param name="OomEvents">v2 <c>oom</c>: times usage hit the limit and an allocation was about to fail.</param>
/// <param name="MaxEvents">v2 <c>max</c>: times usage was about to go over <c>memory.max</c>.</param>
/// <param name="HighEvents">v2 <c>high</c>: times tasks were throttled for exceeding <c>memory.high</c>.</param>
/// <param name="LowEvents">v2 <c>low</c>: reclaims below the <c>memory.low</c> protection.</param>
/// <param name="OomGroupKills">v2 <c>oom_group_kill</c> (kernel 5.17+).</param>
/// <param name="UnderOom">v1 <c>under_oom</c>: the cgroup is currently stuck in OOM (OOM killer disabled).</param>
/// <param name="OomKillDisabled">v1 <c>oom_kill_disable</c>.</param>
public sealed record CgroupMemoryEvents(
    ulong? OomKills,
    ulong? OomEvents,
    ulong? MaxEvents,
    ulong? HighEvents,
    ulong? LowEvents,
    ulong? OomGroupKills,
    bool? UnderOom,
    bool? OomKillDisabled)
{
    /// <summary>Parses v2 <c>memory.events</c>: <c>low 0</c>, <c>high 0</c>, <c>max 12</c>, <c>oom 3</c>, <c>oom_kill 2</c>, <c>oom_group_kill 0</c>.</summary>
    /// <exception cref="ProcParseException">A line is not <c>key value</c>.</exception>
    public static CgroupMemoryEvents ParseEvents(ReadOnlySpan<byte> text, string source)
    {
        ulong? low = null, high = null, max = null, oom = null, oomKill = null, groupKill = null;
        var reader = new FlatKeyedReader(text, source);
        while (reader.TryNext(out ReadOnlySpan<byte> key, out ulong value))
        {
            if (key.SequenceEqual("low"u8))
            {
                low = value;
            }
            else if (key.SequenceEqual("high"u8))
            {
                high = value;
            }
            else if (key.SequenceEqual("max"u8))
            {
                max = value;
            }
            else if (key.SequenceEqual("oom"u8))
            {
                oom = value;
            }
            else if (key.SequenceEqual("oom_kill"u8))
            {
                oomKill = value;
            }
            else if (key.SequenceEqual("oom_group_kill"u8))
            {
                groupKill = value;
            }
        }

        return new CgroupMemoryEvents(oomKill, oom, max, high, low, groupKill, null, null);
    }

    /// <summary>Parses v1 <c>memory.oom_control</c>: <c>oom_kill_disable 0</c>, <c>under_oom 0</c>, <c>oom_kill 1</c>.</summary>
    /// <exception cref="ProcParseException">A line is not <c>key value</c>.</exception>
    public static CgroupMemoryEvents ParseOomControl(ReadOnlySpan<byte> text, string source)
    {
        ulong? oomKill = null;
        bool? underOom = null, disabled = null;
        var reader = new FlatKeyedReader(text, source);
        while (reader.TryNext(out ReadOnlySpan<byte> key, out ulong value))
        {
            if (key.SequenceEqual("oom_kill"u8))
            {
                oomKill = value;
            }
            else if (key.SequenceEqual("under_oom"u8))
            {
                underOom = value != 0;
            }
            else if (key.SequenceEqual("oom_kill_disable"u8))
            {
                disabled = value != 0;
            }
        }

        return new CgroupMemoryEvents(oomKill, null, null, null, null, null, underOom, disabled);
    }
}
