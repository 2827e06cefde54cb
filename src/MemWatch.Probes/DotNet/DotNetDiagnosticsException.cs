namespace MemWatch.Probes.DotNet;

/// <summary>A request to a .NET runtime's diagnostic server failed; <see cref="Reason"/> says how.</summary>
public sealed class DotNetDiagnosticsException : Exception
{
    public DotNetDiagnosticsException(DotNetDiagnosticsFailure reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
    }

    public DotNetDiagnosticsFailure Reason { get; }
}
