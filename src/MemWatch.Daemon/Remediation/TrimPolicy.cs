using MemWatch.Daemon.Configuration;

namespace MemWatch.Daemon.Remediation;

/// <summary>The policy rule for automatic trims, as a pure decision over the figures the daemon has.</summary>
internal static class TrimPolicy
{
    /// <summary>
    /// True when the policy is on and releasable memory (at most RSS) exceeds both MinReleasableMiB and MinReleasablePercent of RSS,
    /// and the last trim (by policy or API) is at least MinInterval ago. <paramref name="reason"/> says why not.
    /// </summary>
    public static bool ShouldTrim(TargetRule rule, ulong? releasableBytes, ulong rssBytes, long lastTrimUnixMs, long nowUnixMs, out string reason)
    {
        TrimPolicyOptions p = rule.Trim;
        if (!rule.PolicyTrimEnabled)
        {
            reason = "no trim policy";
            return false;
        }

        if (releasableBytes is not { } estimate)
        {
            reason = "the allocator gives no releasable figure";
            return false;
        }

        // glibc's estimate counts free chunks whether or not their pages are still resident: right after a trim it
        // stays as high as before while RSS has fallen. Only resident memory can be returned.
        ulong releasable = Math.Min(estimate, rssBytes);

        double minBytes = p.MinReleasableMiB * 1024 * 1024;
        if (releasable <= minBytes)
        {
            reason = $"releasable {releasable >> 20} MiB is not above {p.MinReleasableMiB} MiB";
            return false;
        }

        if (rssBytes == 0 || releasable * 100.0 / rssBytes <= p.MinReleasablePercent)
        {
            reason = $"releasable is not above {p.MinReleasablePercent}% of RSS";
            return false;
        }

        if (lastTrimUnixMs > 0 && nowUnixMs - lastTrimUnixMs < p.MinInterval.TotalMilliseconds)
        {
            reason = $"the last trim was less than {p.MinInterval} ago";
            return false;
        }

        reason = $"releasable {releasable >> 20} MiB of {rssBytes >> 20} MiB RSS is above the policy thresholds";
        return true;
    }
}
