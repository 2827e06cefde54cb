using MemWatch.Probes.DotNet;

namespace MemWatch.Daemon.Reports;

/// <summary>Turns the .NET probes' figures into the report's <c>dotnet</c> section.</summary>
internal static class DotNetReportBuilder
{
    public static DotNetReport Build(DiagnosticEndpoint endpoint, ManagedHeapFigures f, DotNetMemorySplit split) => new()
    {
        SocketPath = endpoint.SocketPath,
        GcHeapBytes = f.GcHeapBytes,
        GcCommittedBytes = f.GcCommittedBytes,
        Gen0Bytes = f.Gen0Bytes,
        Gen1Bytes = f.Gen1Bytes,
        Gen2Bytes = f.Gen2Bytes,
        LohBytes = f.LohBytes,
        PohBytes = f.PohBytes,
        FragmentationBytes = f.FragmentationBytes,
        AllocatedSinceLastGcBytes = f.AllocatedSinceLastGcBytes,
        AllocationRateBytesPerSecond = f.AllocationRateBytesPerSecond,
        GcCount = f.GcCount,
        WorkingSetBytes = f.WorkingSetBytes,
        Split = new DotNetSplitReport
        {
            ManagedHeapBytes = split.ManagedHeapBytes,
            GcCommittedFreeBytes = split.GcCommittedFreeBytes,
            GcResidentBytes = split.GcResidentBytes,
            RuntimeNativeBytes = split.RuntimeNativeBytes,
            OtherNativeBytes = split.OtherNativeBytes,
            StackBytes = split.StackBytes,
            FileBytes = split.FileBytes,
            GcRegionRecognized = split.GcRegionRecognized,
        },
    };
}
