using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Assessment;

/// <summary>What a process's memory cgroup is charged and may be charged: the forecast's limit when there is one.</summary>
/// <param name="LimitBytes">memory.max (or the lowest ancestor's); null when unlimited.</param>
/// <param name="UsageBytes">memory.current: every member's charge, counted once for the cgroup.</param>
/// <param name="ReclaimableBytes">inactive_file of memory.stat: reclaimed before an OOM kill.</param>
/// <param name="Pressure">memory.pressure; null on cgroup v1 or without PSI.</param>
public sealed record ChargedMemory(ulong? LimitBytes, ulong? UsageBytes, ulong? ReclaimableBytes, PressureStall? Pressure);
