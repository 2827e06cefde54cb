namespace MemWatch.Daemon.Configuration;

public sealed class AuthOptions
{
    /// <summary>A file holding the bearer token for control actions; null disables every control action.</summary>
    public string? TokenFile { get; set; }
}
