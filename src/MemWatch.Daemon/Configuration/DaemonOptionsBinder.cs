using Microsoft.Extensions.Configuration;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Binds <see cref="DaemonOptions"/> from the JSON file, then MEMWATCH_ environment variables (<c>__</c> nests), then
/// the command line: the shape is checked and durations normalised (<see cref="ConfigurationShape"/>) before binding;
/// every binding problem becomes one <see cref="ConfigurationException"/> line.
/// </summary>
internal static class DaemonOptionsBinder
{
    private const int MaxConfigFileBytes = 1024 * 1024;

    /// <summary>The top-level keys of DaemonOptions: a MEMWATCH_ variable under none of them is not meant for MemWatch.</summary>
    internal static readonly string[] Sections =
    [
        nameof(DaemonOptions.Listen), nameof(DaemonOptions.StateDirectory), nameof(DaemonOptions.Auth),
        nameof(DaemonOptions.Sampling), nameof(DaemonOptions.Targets), nameof(DaemonOptions.Logging), nameof(DaemonOptions.Tls),
        nameof(DaemonOptions.Kubernetes),
    ];

    /// <param name="ignored">
    /// MEMWATCH_ variables whose first key is no configuration section (Kubernetes service links of a Service named
    /// memwatch, MEMWATCH_SERVICE_HOST and the like, or another tool's): ignored with a warning rather than refused, as
    /// an unknown key below a section still is.
    /// </param>
    public static DaemonOptions Bind(
        string? configFile, string? listen, IReadOnlyDictionary<string, string?>? environment, out IReadOnlyList<string> ignored)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            builder.AddJsonStream(new MemoryStream(ReadConfigFile(configFile)));
        }

        var fromEnvironment = new List<KeyValuePair<string, string?>>();
        var skipped = new List<string>();
        foreach ((string name, string? value) in environment ?? ProcessEnvironment())
        {
            if (!name.StartsWith(DaemonConfigurationLoader.EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            string key = name[DaemonConfigurationLoader.EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal);
            string section = key.Split(':', 2)[0];
            if (Sections.Contains(section, StringComparer.OrdinalIgnoreCase))
            {
                fromEnvironment.Add(new KeyValuePair<string, string?>(key, value));
            }
            else
            {
                skipped.Add(name);
            }
        }

        skipped.Sort(StringComparer.Ordinal);
        ignored = skipped;
        builder.AddInMemoryCollection(fromEnvironment);

        if (listen is not null)
        {
            builder.AddInMemoryCollection([new KeyValuePair<string, string?>(nameof(DaemonOptions.Listen), listen)]);
        }

        var options = new DaemonOptions();
        try
        {
            IConfigurationRoot root = builder.Build();
            var shapeErrors = new List<string>();
            Dictionary<string, string?> durations = ConfigurationShape.Check(root, shapeErrors);
            if (shapeErrors.Count > 0)
            {
                throw new ConfigurationException(shapeErrors);
            }

            // The JSON stream is read once: the durations are laid over the built configuration, not a rebuilt one.
            IConfigurationRoot normalized = new ConfigurationBuilder().AddConfiguration(root).AddInMemoryCollection(durations).Build();
            normalized.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidDataException e)
        {
            // JSON syntax: the inner exception names the position.
            string detail = e.InnerException?.Message is { } inner ? $"{e.Message} {inner}" : e.Message;
            throw new ConfigurationException([OneLine(configFile is null ? detail : $"config file {configFile}: {detail}")]);
        }
        catch (FormatException e)
        {
            throw new ConfigurationException([OneLine(e.Message)]);
        }
        catch (InvalidOperationException e)
        {
            // The binder: an unknown key or a value of the wrong type (the inner exception names the value).
            string detail = e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
            throw new ConfigurationException([OneLine(detail)]);
        }
        catch (System.Text.Json.JsonException e)
        {
            // JSON syntax in the file (read as a stream, so the provider does not wrap it): the message names the position.
            throw new ConfigurationException([OneLine(configFile is null ? e.Message : $"config file {configFile}: {e.Message}")]);
        }
        catch (Exception e) when (e is OverflowException or ArgumentException)
        {
            // A value the binder took but could not convert (a number out of range).
            throw new ConfigurationException([OneLine(e.Message)]);
        }

        return options;
    }

    internal static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    /// <summary>The file's bytes: a regular file of at most 1 MiB (not /dev/zero, not a FIFO, which would block).</summary>
    private static byte[] ReadConfigFile(string path)
    {
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle handle = MemWatch.Probes.Files.CheckedFile.OpenRegular(path, MaxConfigFileBytes);
            byte[] bytes = new byte[RandomAccess.GetLength(handle)];
            int read = RandomAccess.Read(handle, bytes, 0);
            return bytes[..read];
        }
        catch (FileNotFoundException)
        {
            throw new ConfigurationException([$"config file {path} does not exist"]);
        }
        catch (MemWatch.Probes.Files.UnsafeFileException e)
        {
            throw new ConfigurationException([$"config file {path} refused: {e.Reason}"]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException([$"config file {path} cannot be read: {OneLine(e.Message)}"]);
        }
    }

    private static IEnumerable<KeyValuePair<string, string?>> ProcessEnvironment()
    {
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            yield return new KeyValuePair<string, string?>((string)e.Key, (string?)e.Value);
        }
    }
}
