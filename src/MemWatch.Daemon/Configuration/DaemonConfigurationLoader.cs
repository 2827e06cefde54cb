using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MemWatch.Probes.Discovery;
using Microsoft.Extensions.Configuration;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Loads <see cref="DaemonOptions"/> from the JSON file, then MEMWATCH_ environment variables (<c>__</c> nests), then
/// the command line, and validates it into <see cref="DaemonSettings"/>. Every problem found is reported, one line each.
/// </summary>
public static class DaemonConfigurationLoader
{
    public const string EnvironmentPrefix = "MEMWATCH_";
    public const string DefaultStateDirectory = "/var/lib/memwatch";
    private const double DefaultMinRssMiB = 50;
    private const int MaxConfigFileBytes = 1024 * 1024;

    /// <param name="configFile">The JSON file, or null for defaults.</param>
    /// <param name="listen">--listen, overriding file and environment; or null.</param>
    /// <param name="environment">The environment to read (tests pass their own); null for the process's.</param>
    /// <exception cref="ConfigurationException">The configuration cannot be used.</exception>
    // The top-level keys of DaemonOptions: a MEMWATCH_ variable under none of them is not meant for MemWatch.
    private static readonly string[] s_sections =
    [
        nameof(DaemonOptions.Listen), nameof(DaemonOptions.StateDirectory), nameof(DaemonOptions.Auth),
        nameof(DaemonOptions.Sampling), nameof(DaemonOptions.Targets), nameof(DaemonOptions.Logging), nameof(DaemonOptions.Tls),
        nameof(DaemonOptions.Kubernetes),
    ];

    public static DaemonSettings Load(string? configFile, string? listen, IReadOnlyDictionary<string, string?>? environment = null)
    {
        DaemonOptions options = Bind(configFile, listen, environment, out IReadOnlyList<string> ignored);
        string? stateFromSystemd = environment is null
            ? Environment.GetEnvironmentVariable("STATE_DIRECTORY")
            : environment.GetValueOrDefault("STATE_DIRECTORY");
        return Validate(options, stateFromSystemd, ignored);
    }

    public static DaemonOptions Bind(string? configFile, string? listen, IReadOnlyDictionary<string, string?>? environment = null) =>
        Bind(configFile, listen, environment, out _);

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
            if (!name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            string key = name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal);
            string section = key.Split(':', 2)[0];
            if (s_sections.Contains(section, StringComparer.OrdinalIgnoreCase))
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

    /// <param name="ignoredEnvironment">MEMWATCH_ variables <see cref="Bind(string?, string?, IReadOnlyDictionary{string, string?}?, out IReadOnlyList{string})"/> left out, to warn about.</param>
    public static DaemonSettings Validate(DaemonOptions options, string? stateDirectoryFromSystemd, IReadOnlyList<string>? ignoredEnvironment = null)
    {
        var errors = new List<string>();
        var warnings = new List<string>();

        IPEndPoint? endpoint = ParseListen(options.Listen, errors);

        SamplingOptions s = options.Sampling;

        // Upper bounds first: every comparison and multiplication below (and the sampler's doubling) stays in range.
        int before = errors.Count;
        RequireAtMost(errors, "Sampling.Interval", s.Interval, TimeSpan.FromDays(1));
        RequireAtMost(errors, "Sampling.RollupInterval", s.RollupInterval, TimeSpan.FromDays(1));
        RequireAtMost(errors, "Sampling.SmapsInterval", s.SmapsInterval, TimeSpan.FromDays(1));
        RequireAtMost(errors, "Sampling.IntrospectInterval", s.IntrospectInterval, TimeSpan.FromDays(1));
        if (errors.Count == before)
        {
            RequireAtLeast(errors, "Sampling.Interval", s.Interval, TimeSpan.FromMilliseconds(100));
            RequireAtLeast(errors, "Sampling.RollupInterval", s.RollupInterval, s.Interval);
            RequireAtLeast(errors, "Sampling.SmapsInterval", s.SmapsInterval, s.Interval);
            RequireAtLeast(errors, "Sampling.IntrospectInterval", s.IntrospectInterval, TimeSpan.FromSeconds(1));
            RequireAtLeast(errors, "Sampling.Window", s.Window, s.Interval * 2);
        }

        if (s.Window > TimeSpan.FromDays(7))
        {
            errors.Add($"Sampling.Window must be at most 7d, not {ConfigDuration.Format(s.Window)}");
        }

        if (s.MaxTargets is < 1 or > 100_000)
        {
            errors.Add($"Sampling.MaxTargets must be between 1 and 100000, not {s.MaxTargets}");
        }

        if (s.HostCgroupRoot is { } cgroupRoot && (!cgroupRoot.StartsWith('/') || cgroupRoot.Contains("/..", StringComparison.Ordinal)))
        {
            errors.Add($"Sampling.HostCgroupRoot must be an absolute path without '..', not '{cgroupRoot}'");
        }

        foreach ((string name, string? root) in (ReadOnlySpan<(string, string?)>)[("ProcRoot", s.ProcRoot), ("SysRoot", s.SysRoot)])
        {
            if (root is null || !root.StartsWith('/') || root.Contains("/..", StringComparison.Ordinal))
            {
                errors.Add($"Sampling.{name} must be an absolute path without '..', not '{root}'");
            }
        }

        var rules = new List<TargetRule>();
        if (options.Targets.Count == 0)
        {
            rules.Add(new TargetRule(0, "default", new ProcessSelector { MinRssBytes = MiB(DefaultMinRssMiB) }, false, false, new TrimPolicyOptions()));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < options.Targets.Count; i++)
        {
            TargetRule? rule = CompileRule(i, options.Targets[i], errors);
            if (rule is null)
            {
                continue;
            }

            if (!names.Add(rule.Name))
            {
                errors.Add($"Targets[{i}].Name '{rule.Name}' is used by another rule");
            }

            rules.Add(rule);
        }

        byte[]? token = null;
        if (options.Auth.TokenFile is { Length: > 0 } tokenFile)
        {
            token = TokenFileReader.Read(tokenFile, errors, warnings);
        }
        else if (rules.Any(r => r.AllowActions))
        {
            warnings.Add("a rule sets AllowActions but Auth.TokenFile is not set: API control actions are disabled (policy trims still run)");
        }

        if (options.Auth.AnonymousCommandLines && !options.Auth.AnonymousReads)
        {
            errors.Add("Auth.AnonymousCommandLines needs Auth.AnonymousReads: true");
        }

        var certificate = TlsCertificateLoader.Load(options.Tls, errors);

        if (options.Logging.Format is not ("text" or "json"))
        {
            errors.Add($"Logging.Format must be 'text' or 'json', not '{options.Logging.Format}'");
        }

        if (!Enum.TryParse(options.Logging.Level, ignoreCase: true, out Serilog.Events.LogEventLevel _)
            || int.TryParse(options.Logging.Level, out _))
        {
            errors.Add($"Logging.Level must be one of Verbose, Debug, Information, Warning, Error, Fatal, not '{options.Logging.Level}'");
        }

        ValidateKubernetes(options.Kubernetes, errors);

        string state = options.StateDirectory is { Length: > 0 } configured
            ? configured
            : FirstPath(stateDirectoryFromSystemd) ?? DefaultStateDirectory;
        if (!Path.IsPathRooted(state))
        {
            errors.Add($"StateDirectory must be an absolute path, not '{state}'");
        }

        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        return new DaemonSettings
        {
            Listen = endpoint!,
            StateDirectory = state,
            Token = token,
            AnonymousReads = options.Auth.AnonymousReads,
            AnonymousCommandLines = options.Auth.AnonymousCommandLines,
            Certificate = certificate,
            Options = options,
            Sampling = s,
            Rules = rules,
            Logging = options.Logging,
            Kubernetes = options.Kubernetes,
            Warnings = [.. warnings, .. (ignoredEnvironment ?? []).Select(name =>
                $"environment variable {name} ignored: it names none of the sections {string.Join(", ", s_sections)}")],
        };
    }

    private static void ValidateKubernetes(KubernetesOptions k, List<string> errors)
    {
        bool sidecar = !string.IsNullOrEmpty(k.PodName) || !string.IsNullOrEmpty(k.PodNamespace);
        if (sidecar && (string.IsNullOrEmpty(k.PodName) || string.IsNullOrEmpty(k.PodNamespace)))
        {
            errors.Add("Kubernetes.PodName and Kubernetes.PodNamespace are set together (sidecar mode, from the downward API)");
        }

        if (sidecar && !string.IsNullOrEmpty(k.NodeName))
        {
            errors.Add("Kubernetes.NodeName (DaemonSet mode: pods from the API) and Kubernetes.PodName (sidecar mode) exclude each other");
        }

        if (k.ApiServer is { } server && !(Uri.TryCreate(server, UriKind.Absolute, out Uri? uri) && uri.Scheme is "https" or "http"))
        {
            errors.Add($"Kubernetes.ApiServer must be an http(s) URL, not '{server}'");
        }
    }

    /// <summary>ADDR:PORT with an IPv4 address, a bracketed IPv6 address, or localhost.</summary>
    public static IPEndPoint? ParseListen(string? listen, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(listen))
        {
            errors.Add("Listen must be ADDR:PORT, e.g. 127.0.0.1:9487");
            return null;
        }

        string text = listen.Trim();
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            text = "127.0.0.1" + text[9..];
        }

        int colon = text.LastIndexOf(':');
        if (colon <= 0 || (text.Contains(':', StringComparison.Ordinal) && text.IndexOf(':') != colon && !text.StartsWith('[')))
        {
            errors.Add($"Listen must be ADDR:PORT (IPv6 in brackets), not '{listen}'");
            return null;
        }

        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            errors.Add($"Listen port must be 1-65535, in '{listen}'");
            return null;
        }

        if (!IPEndPoint.TryParse(text, out IPEndPoint? endpoint))
        {
            errors.Add($"Listen address must be an IP address or localhost, not '{text[..colon]}'");
            return null;
        }

        return endpoint;
    }

    private static TargetRule? CompileRule(int index, TargetOptions t, List<string> errors)
    {
        string where = $"Targets[{index}]";
        int before = errors.Count;
        string name = string.IsNullOrWhiteSpace(t.Name) ? $"rule{index}" : t.Name.Trim();
        if (name.Length > 64 || name.Any(c => char.IsControl(c)))
        {
            errors.Add($"{where}.Name must be at most 64 printable characters");
        }

        Regex? comm = CompileRegex(t.Comm, $"{where}.Comm", errors);
        Regex? cmdline = CompileRegex(t.Cmdline, $"{where}.Cmdline", errors);
        if (t.Pid is { } pid && pid <= 0)
        {
            errors.Add($"{where}.Pid must be a positive integer, not {pid}");
        }

        if (t.MinRssMiB is { } min && (min < 0 || !double.IsFinite(min)))
        {
            errors.Add($"{where}.MinRssMiB must be 0 or more, not {min.ToString(CultureInfo.InvariantCulture)}");
        }

        if (t.CgroupPrefix is { } prefix && !prefix.StartsWith('/'))
        {
            errors.Add($"{where}.CgroupPrefix must start with '/', not '{prefix}'");
        }

        if (t.Unit is { } unit && (unit.Length == 0 || unit.Contains('/', StringComparison.Ordinal)))
        {
            errors.Add($"{where}.Unit must be a unit name such as api.service, not '{unit}'");
        }

        uint? uid = null;
        if (t.User is { } user)
        {
            if (uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out uint numeric))
            {
                uid = numeric;
            }
            else if (UserDatabase.TryGetUid(user, out uint resolved))
            {
                uid = resolved;
            }
            else
            {
                errors.Add($"{where}.User '{user}' is not a uid and not in /etc/passwd");
            }
        }

        TrimPolicyOptions trim = t.Remediation.Trim;
        if (trim.Enabled && !t.AllowActions)
        {
            errors.Add($"{where}.Remediation.Trim.Enabled needs {where}.AllowActions: true");
        }

        if (trim.MinReleasableMiB < 0 || !double.IsFinite(trim.MinReleasableMiB))
        {
            errors.Add($"{where}.Remediation.Trim.MinReleasableMiB must be 0 or more");
        }

        if (trim.MinReleasablePercent is < 0 or > 100 || double.IsNaN(trim.MinReleasablePercent))
        {
            errors.Add($"{where}.Remediation.Trim.MinReleasablePercent must be between 0 and 100");
        }

        if (trim.MinInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{where}.Remediation.Trim.MinInterval must be at least 1s, not {ConfigDuration.Format(trim.MinInterval)}");
        }

        AttributionRuleOptions attribution = t.Attribution;
        if (attribution.OnVerdict && !attribution.Enabled)
        {
            errors.Add($"{where}.Attribution.OnVerdict needs {where}.Attribution.Enabled: true");
        }

        if (attribution.Seconds is < 1 or > 120 || double.IsNaN(attribution.Seconds))
        {
            errors.Add($"{where}.Attribution.Seconds must be between 1 and 120");
        }

        if (attribution.MinInterval < TimeSpan.FromMinutes(1))
        {
            errors.Add($"{where}.Attribution.MinInterval must be at least 00:01:00, not {attribution.MinInterval}");
        }

        if (errors.Count > before)
        {
            return null;
        }

        var selector = new ProcessSelector
        {
            Pids = t.Pid is { } p ? new HashSet<int> { p } : null,
            Comm = comm,
            CommandLine = cmdline,
            CgroupPrefix = t.CgroupPrefix,
            Unit = t.Unit,
            Uid = uid,
            MinRssBytes = MiB(t.MinRssMiB ?? 0),
        };
        return new TargetRule(index, name, selector, t.Introspect, t.AllowActions, trim) { Attribution = attribution };
    }

    private static Regex? CompileRegex(string? pattern, string where, List<string> errors)
    {
        if (pattern is null)
        {
            return null;
        }

        try
        {
            // A bounded match time: a pathological pattern must not stall the sampler.
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
        }
        catch (ArgumentException e)
        {
            errors.Add($"{where} is not a valid regular expression: {OneLine(e.Message)}");
            return null;
        }
    }

    private static void RequireAtLeast(List<string> errors, string name, TimeSpan value, TimeSpan minimum)
    {
        if (value < minimum)
        {
            errors.Add($"{name} must be at least {ConfigDuration.Format(minimum)}, not {ConfigDuration.Format(value)}");
        }
    }

    private static void RequireAtMost(List<string> errors, string name, TimeSpan value, TimeSpan maximum)
    {
        if (value > maximum)
        {
            errors.Add($"{name} must be at most {ConfigDuration.Format(maximum)}, not {ConfigDuration.Format(value)}");
        }
    }

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

    private static string? FirstPath(string? systemdList) =>
        string.IsNullOrWhiteSpace(systemdList) ? null : systemdList.Split(':', StringSplitOptions.RemoveEmptyEntries)[0];

    private static ulong MiB(double mib) => (ulong)(mib * 1024 * 1024);

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private static IEnumerable<KeyValuePair<string, string?>> ProcessEnvironment()
    {
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            yield return new KeyValuePair<string, string?>((string)e.Key, (string?)e.Value);
        }
    }
}
