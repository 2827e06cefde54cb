using MemWatch.Daemon.Reports;
using MemWatch.Probes.DotNet;
using MemWatch.Probes.Regions;
using MemWatch.Probes.Snapshots;

namespace MemWatch.Daemon.Cli;

/// <summary>The <c>dotnet</c> section of <c>memwatch inspect</c>: read only when libcoreclr is mapped; failures become warnings.</summary>
internal static class DotNetInspection
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    public static InspectReport AddTo(InspectReport report, ProcessSnapshot snapshot)
    {
        if (snapshot.Layout is not { Allocator.DotNetRuntime: true } layout)
        {
            return report;
        }

        string? warning;
        try
        {
            if (new DiagnosticEndpointLocator().TryLocate(snapshot.Pid, out DiagnosticEndpoint? endpoint))
            {
                ManagedHeapFigures figures = new ManagedHeapReader().Read(endpoint, s_timeout);
                DotNetReport dotnet = DotNetReportBuilder.Build(endpoint, figures, DotNetMemorySplit.From(figures, layout));
                return report with { Dotnet = dotnet };
            }

            warning = "dotnet: libcoreclr is mapped but no diagnostic socket was found (DOTNET_EnableDiagnostics=0?)";
        }
        catch (UnauthorizedAccessException)
        {
            warning = "dotnet: permission denied looking for the diagnostic socket";
        }
        catch (DotNetDiagnosticsException e)
        {
            warning = "dotnet: " + e.Message;
        }

        return report with { Warnings = [.. report.Warnings, warning] };
    }
}
