namespace MemWatch.Daemon.Configuration;

/// <summary>One rule of <c>Targets</c>: a selector (every set field must match) and what the daemon may do to what it selects.</summary>
internal sealed class TargetOptions
{
    public string? Name { get; set; }

    public int? Pid { get; set; }

    /// <summary>Regex on the process name (comm).</summary>
    public string? Comm { get; set; }

    /// <summary>Regex on the command line, arguments joined by spaces.</summary>
    public string? Cmdline { get; set; }

    public string? CgroupPrefix { get; set; }

    /// <summary>A systemd unit, e.g. api.service.</summary>
    public string? Unit { get; set; }

    /// <summary>A user name or a numeric uid.</summary>
    public string? User { get; set; }

    public double? MinRssMiB { get; set; }

    /// <summary>Allows allocator statistics through remote calls (ptrace) and, for .NET processes, GC counters over the
    /// diagnostic socket, at IntrospectInterval.</summary>
    public bool Introspect { get; set; }

    /// <summary>Allows control actions (API trims and GCs, policy trims) on the processes this rule selects.</summary>
    public bool AllowActions { get; set; }

    public RemediationOptions Remediation { get; set; } = new();

    /// <summary>Growth attribution with perf events: on request and, with OnVerdict, when the verdict becomes a growth.</summary>
    public AttributionRuleOptions Attribution { get; set; } = new();
}
