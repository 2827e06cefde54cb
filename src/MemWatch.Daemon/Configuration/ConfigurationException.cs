namespace MemWatch.Daemon.Configuration;

/// <summary>The configuration is unusable; each entry of <see cref="Errors"/> is one line for the operator.</summary>
internal sealed class ConfigurationException : Exception
{
    public ConfigurationException(IReadOnlyList<string> errors)
        : base(string.Join("; ", errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<string> Errors { get; }
}
