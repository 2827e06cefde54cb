namespace MemWatch.Probes.Analysis;

/// <summary>Whose limit a forecast is about.</summary>
public enum LimitScope
{
    /// <summary>The process's cgroup: memory.max (v2) or memory.limit_in_bytes (v1).</summary>
    Cgroup,

    /// <summary>The host: MemTotal, with usage MemTotal − MemAvailable from <c>/proc/meminfo</c>.</summary>
    Host,
}
