namespace MemWatch.Probes.Injection;

/// <summary>A stopped thread as <see cref="ISafePointRule"/> sees it.</summary>
/// <param name="Pid">The target process.</param>
/// <param name="Tid">The stopped thread.</param>
/// <param name="Regs">Its registers at the stop.</param>
/// <param name="Maps">The target's mappings, read just before the stop.</param>
/// <param name="Purpose">What the answer decides.</param>
/// <param name="Callee">For <see cref="SafePointPurpose.Rollback"/>: the function the thread was running; otherwise 0.</param>
internal readonly record struct SafePointQuery(int Pid, int Tid, UserRegs Regs, TargetMaps Maps, SafePointPurpose Purpose, ulong Callee);
