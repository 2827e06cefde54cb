using MemWatch.Probes.Runtimes;

namespace MemWatch.Daemon.Reports;

/// <summary>Maps Probes' runtime reading and declared limit to <see cref="RuntimeReport"/>.</summary>
internal static class RuntimeReportBuilder
{
    /// <summary>Null for a process with neither a runtime nor a declared limit.</summary>
    public static RuntimeReport? Build(RuntimeReading? reading, DeclaredLimit? limit)
    {
        if ((reading is null || reading.Runtime == RuntimeKind.None) && limit is null)
        {
            return null;
        }

        RuntimeHeapFigures? f = reading?.Figures;
        return new RuntimeReport
        {
            Name = (reading?.Runtime ?? RuntimeKind.None).ToName(),
            Version = f?.Version,
            Source = f?.Source,
            UsedBytes = f?.UsedBytes,
            CommittedBytes = f?.CommittedBytes,
            FreeBytes = f?.FreeBytes,
            MaxBytes = f?.MaxBytes,
            PhysicalBytes = f?.PhysicalBytes,
            IdleBytes = f?.IdleBytes,
            ReleasedBytes = f?.ReleasedBytes,
            Arenas = f?.Arenas,
            PoolsInUse = f?.PoolsInUse,
            PoolsFree = f?.PoolsFree,
            PoolsInUseBytes = f?.PoolsInUseBytes,
            Spaces = f?.Spaces.Select(s => new RuntimeSpaceReport(s.Name, s.UsedBytes, s.CommittedBytes, s.MaxBytes, s.PhysicalBytes)).ToList() ?? [],
            DeclaredLimit = limit is null ? null : new DeclaredLimitReport(limit.Bytes, limit.Source, limit.Bounds),
            Problem = reading?.Problem,
        };
    }
}
