namespace MemWatch.Daemon.Configuration;

internal sealed class LoggingOptions
{
    /// <summary><c>text</c> or <c>json</c> (Serilog compact JSON, one event per line).</summary>
    public string Format { get; set; } = "text";

    /// <summary>Verbose, Debug, Information, Warning, Error or Fatal.</summary>
    public string Level { get; set; } = "Information";

    /// <summary>Also write to this file (same format), or null.</summary>
    public string? File { get; set; }
}
