namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Loads the daemon's configuration: <see cref="DaemonOptionsBinder"/> binds the file, MEMWATCH_ environment variables
/// and the command line; <see cref="DaemonSettingsValidator"/> checks the result into <see cref="DaemonSettings"/>, its
/// rules compiled by <see cref="TargetRuleCompiler"/>. Every problem found is reported, one line each.
/// </summary>
internal static class DaemonConfigurationLoader
{
    public const string EnvironmentPrefix = "MEMWATCH_";
    public const string DefaultStateDirectory = "/var/lib/memwatch";

    /// <param name="configFile">The JSON file, or null for defaults.</param>
    /// <param name="listen">--listen, overriding file and environment; or null.</param>
    /// <param name="environment">The environment to read (tests pass their own); null for the process's.</param>
    /// <exception cref="ConfigurationException">The configuration cannot be used.</exception>
    public static DaemonSettings Load(string? configFile, string? listen, IReadOnlyDictionary<string, string?>? environment = null)
    {
        DaemonOptions options = DaemonOptionsBinder.Bind(configFile, listen, environment, out IReadOnlyList<string> ignored);
        string? stateFromSystemd = environment is null
            ? Environment.GetEnvironmentVariable("STATE_DIRECTORY")
            : environment.GetValueOrDefault("STATE_DIRECTORY");
        return DaemonSettingsValidator.Validate(options, stateFromSystemd, ignored);
    }

    /// <inheritdoc cref="DaemonSettingsValidator.Validate"/>
    public static DaemonSettings Validate(DaemonOptions options, string? stateDirectoryFromSystemd, IReadOnlyList<string>? ignoredEnvironment = null) =>
        DaemonSettingsValidator.Validate(options, stateDirectoryFromSystemd, ignoredEnvironment);
}
