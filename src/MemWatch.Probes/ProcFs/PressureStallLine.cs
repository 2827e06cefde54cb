namespace MemWatch.Probes.ProcFs;

/// <summary>One line of a PSI file: the share of wall time stalled over 10 s, 60 s and 300 s, and the total stall time.</summary>
/// <param name="Avg10">Percent of the last 10 seconds (0-100).</param>
/// <param name="Avg60">Percent of the last 60 seconds.</param>
/// <param name="Avg300">Percent of the last 300 seconds.</param>
/// <param name="TotalMicroseconds">Cumulative stall time in microseconds.</param>
public readonly record struct PressureStallLine(double Avg10, double Avg60, double Avg300, ulong TotalMicroseconds);
