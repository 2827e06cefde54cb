using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Unwinding;

/// <summary>One executable range of a target and the CFI that describes it: link-time address = pc - <see cref="Bias"/>.</summary>
internal sealed record UnwindModule(ulong Start, ulong End, ulong Bias, CfiTable Table, string Path, TargetModule? Module);
