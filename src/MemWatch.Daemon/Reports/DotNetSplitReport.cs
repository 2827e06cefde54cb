namespace MemWatch.Daemon.Reports;

/// <summary>Resident memory of a .NET process by holder (see MemWatch.Probes.DotNet.DotNetMemorySplit).</summary>
internal sealed record DotNetSplitReport
{
    public required ulong ManagedHeapBytes { get; init; }

    public ulong? GcCommittedFreeBytes { get; init; }

    public required ulong GcResidentBytes { get; init; }

    public required ulong RuntimeNativeBytes { get; init; }

    public required ulong OtherNativeBytes { get; init; }

    public required ulong StackBytes { get; init; }

    public required ulong FileBytes { get; init; }

    public required bool GcRegionRecognized { get; init; }
}
