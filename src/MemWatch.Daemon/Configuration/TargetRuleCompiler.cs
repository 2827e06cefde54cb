using System.Globalization;
using System.Text.RegularExpressions;
using MemWatch.Probes.Discovery;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Compiles the <c>Targets</c> section into <see cref="TargetRule"/>s: selectors with bounded-time regular
/// expressions, users resolved to uids, trim and attribution options checked. No rule at all means one catch-all rule
/// for processes above 50 MiB.
/// </summary>
internal static class TargetRuleCompiler
{
    private const double DefaultMinRssMiB = 50;

    /// <summary>The rules in order; a rule with an error is left out and the error added.</summary>
    public static List<TargetRule> Compile(IReadOnlyList<TargetOptions> targets, List<string> errors)
    {
        var rules = new List<TargetRule>();
        if (targets.Count == 0)
        {
            rules.Add(new TargetRule(0, "default", new ProcessSelector { MinRssBytes = MiB(DefaultMinRssMiB) }, false, false, new TrimPolicyOptions()));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < targets.Count; i++)
        {
            TargetRule? rule = CompileRule(i, targets[i], errors);
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

        return rules;
    }

    private static TargetRule? CompileRule(int index, TargetOptions t, List<string> errors)
    {
        string where = $"Targets[{index}]";
        int before = errors.Count;
        string name = string.IsNullOrWhiteSpace(t.Name) ? $"rule{index}" : t.Name.Trim();
        if (name.Length > 64 || name.Any(char.IsControl))
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
            errors.Add($"{where} is not a valid regular expression: {DaemonOptionsBinder.OneLine(e.Message)}");
            return null;
        }
    }

    private static ulong MiB(double mib) => (ulong)(mib * 1024 * 1024);
}
