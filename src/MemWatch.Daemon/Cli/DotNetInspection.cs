using MemWatch.Daemon.Reports;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Snapshots;

namespace MemWatch.Daemon.Cli;

/// <summary>
/// The runtime's GC figures for <c>memwatch inspect</c>: read only when libcoreclr is mapped; a failure becomes a warning.
/// With --watch they are read at both ends of the window, so the verdict can weigh the GC heap's growth.
/// </summary>
internal sealed record DotNetInspection(DiagnosticEndpoint? Endpoint, ManagedHeapFigures? Figures, string? Warning)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    /// <summary>Null when the process is not a .NET runtime.</summary>
    /// <param name="snapshot">The process as read from /proc.</param>
    /// <param name="asked">False: only a note that the figures exist; nothing is connected to.</param>
    public static DotNetInspection? Read(ProcFileSystem fs, ProcessSnapshot snapshot, bool asked)
    {
        if (snapshot.Layout is not { Allocator.DotNetRuntime: true })
        {
            return null;
        }

        if (!asked)
        {
            return new DotNetInspection(null, null, "dotnet: a .NET runtime is loaded; --dotnet reads its GC figures over its diagnostic socket");
        }

        try
        {
            if (new DiagnosticEndpointLocator(fs).TryLocate(snapshot.Pid, out DiagnosticEndpoint? endpoint))
            {
                return new DotNetInspection(endpoint, new ManagedHeapReader().Read(endpoint, s_timeout), null);
            }

            return new DotNetInspection(null, null, "dotnet: libcoreclr is mapped but no diagnostic socket was found (DOTNET_EnableDiagnostics=0?)");
        }
        catch (UnauthorizedAccessException)
        {
            return new DotNetInspection(null, null, "dotnet: permission denied looking for the diagnostic socket");
        }
        catch (DotNetDiagnosticsException e)
        {
            return new DotNetInspection(null, null, "dotnet: " + e.Message);
        }
    }

    /// <summary>Adds the <c>dotnet</c> section (figures and memory split against <paramref name="snapshot"/>'s layout) or the warning.</summary>
    public InspectReport AddTo(InspectReport report, ProcessSnapshot snapshot)
    {
        if (Endpoint is { } endpoint && Figures is { } figures && snapshot.Layout is { } layout)
        {
            return report with { Dotnet = DotNetReportBuilder.Build(endpoint, figures, DotNetMemorySplit.From(figures, layout)) };
        }

        return Warning is null ? report : report with { Warnings = [.. report.Warnings, Warning] };
    }
}
