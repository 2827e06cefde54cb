using MemWatch.Probes.Allocators.Models;
using static MemWatch.Probes.Verdicts.VerdictText;

namespace MemWatch.Probes.Verdicts;

/// <summary>
/// Adds what the last trim showed to a verdict: a trim whose release came back within the window is evidence, and for
/// retention it puts the allocator settings before live trims in the remedies.
/// </summary>
internal static class TrimEfficacyRules
{
    public static Verdict Apply(Verdict v, TrimEfficacy trim, ClassifierOptions o)
    {
        if (!trim.IsRefaulted(o.TrimRefaultFraction, o.MinJudgedReleaseBytes))
        {
            return v;
        }

        string when = trim.SecondsToHalfRefaulted is { } s ? Duration(s) : Duration(trim.ObservedSeconds);
        var evidence = new List<string>(v.Evidence)
        {
            Invariant($"the last trim released {Bytes(trim.ReleasedBytes)}; {Percent(trim.RefaultedFraction)} came back within {Duration(trim.ObservedSeconds)} ({trim.MinorFaultsSince} minor faults), half of it within {when}"),
        };

        // For a leak or a working set a re-faulted trim is expected; the advice about settings is for retention.
        if (v.Kind != VerdictKind.AllocatorRetention)
        {
            return v with { Evidence = evidence };
        }

        // Re-faulted trims cost faults and gain nothing: restart-time settings go first, live calls last.
        var remedies = new List<RetentionRemedy>(v.Recommendations.Count + 1)
        {
            new("stop trimming this process periodically", Invariant($"trims of this process are re-faulted within {when}: fix the allocator settings instead"), false),
        };
        foreach (RetentionRemedy r in v.Recommendations)
        {
            if (!r.Live)
            {
                remedies.Add(r);
            }
        }

        foreach (RetentionRemedy r in v.Recommendations)
        {
            if (r.Live)
            {
                remedies.Add(r);
            }
        }

        return v with { Evidence = evidence, Recommendations = remedies };
    }
}
