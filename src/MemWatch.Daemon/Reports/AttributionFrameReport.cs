namespace MemWatch.Daemon.Reports;

/// <summary>One frame of a growth site: function, module file name, offset of the call site from the function's start.</summary>
internal sealed record AttributionFrameReport(string Function, string Module, ulong Offset);
