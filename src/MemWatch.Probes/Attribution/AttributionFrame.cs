namespace MemWatch.Probes.Attribution;

/// <summary>
/// One frame of a growth site: the function (demangled; <c>[unknown]</c> without a symbol; <c>[managed code]</c> for
/// .NET code with no perf-map entry), its module's file name (<c>[jit]</c> for JIT code) and the offset of the frame's
/// call site from the function's start (from the module's link-time base when the function is unknown).
/// </summary>
public sealed record AttributionFrame(string Function, string Module, ulong Offset)
{
    /// <summary>How a frame is spelled in folded stacks and the text report: <c>function (module)</c>.</summary>
    public string Label => $"{Function} ({Module})";
}
