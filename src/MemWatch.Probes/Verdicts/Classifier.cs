namespace MemWatch.Probes.Verdicts;

/// <summary>
/// Turns a window of samples (and, when available, the region model and the allocator's own figures) into a
/// <see cref="Verdict"/>. The rules and thresholds are in docs/verdicts.md; every threshold is a named
/// <see cref="ClassifierOptions"/> value.
/// </summary>
/// <remarks>
/// Runs per target per analyzer tick in the daemon: it reads the window in place and walks the arena list once;
/// it allocates the verdict, its few evidence lines and, for retention only, the model's remedy list.
/// </remarks>
public static class Classifier
{
    public static Verdict Classify(ClassifierInput input, ClassifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= ClassifierOptions.Default;
        var f = new WindowFigures(input, options);
        Verdict verdict = ShapeRules.ThreadLeak(input, options, f.Span)
            ?? (f.Ongoing ? GrowthRules.Classify(input, options, f) : PlateauRules.Classify(input, options, f));
        return input.LastTrim is { } trim ? TrimEfficacyRules.Apply(verdict, trim, options) : verdict;
    }
}
