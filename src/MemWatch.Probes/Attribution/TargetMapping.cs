namespace MemWatch.Probes.Attribution;

/// <summary>One line of /proc/PID/maps as attribution needs it: range, whether executable or file-backed, and the path.</summary>
internal readonly record struct TargetMapping(ulong Start, ulong End, bool Executable, bool FileBacked, string Path);
