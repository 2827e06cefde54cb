using System.Globalization;
using System.Net;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Checks bound <see cref="DaemonOptions"/> into <see cref="DaemonSettings"/>: bounds on durations and counts, the
/// listen address, the token and TLS files, logging, Kubernetes and the state directory; the rules through
/// <see cref="TargetRuleCompiler"/>. Every problem found is reported, one line each.
/// </summary>
internal static class DaemonSettingsValidator
{
    /// <param name="ignoredEnvironment">MEMWATCH_ variables <see cref="DaemonOptionsBinder.Bind"/> left out, to warn about.</param>
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

        List<TargetRule> rules = TargetRuleCompiler.Compile(options.Targets, errors);

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
            : FirstPath(stateDirectoryFromSystemd) ?? DaemonConfigurationLoader.DefaultStateDirectory;
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
                $"environment variable {name} ignored: it names none of the sections {string.Join(", ", DaemonOptionsBinder.Sections)}")],
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

    private static string? FirstPath(string? systemdList) =>
        string.IsNullOrWhiteSpace(systemdList) ? null : systemdList.Split(':', StringSplitOptions.RemoveEmptyEntries)[0];
}
