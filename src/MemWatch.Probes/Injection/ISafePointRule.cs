namespace MemWatch.Probes.Injection;

/// <summary>
/// Decides, for a thread the engine has stopped, whether it holds no lock the callee could need: before a call
/// (<see cref="SafePointPurpose.Start"/>) and when a callee that outlived its timeout is stopped to be rolled back
/// (<see cref="SafePointPurpose.Rollback"/>). The engine asks exactly one rule, at one place per purpose
/// (<see cref="RemoteCallOptions.SafePointRule"/>; <see cref="CodeRangeSafePointRule"/> when none is set).
/// </summary>
internal interface ISafePointRule
{
    SafePointVerdict Judge(in SafePointQuery query);
}
