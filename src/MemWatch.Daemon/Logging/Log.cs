using MemWatch.Probes.Analysis;
using MemWatch.Probes.Injection;
using Microsoft.Extensions.Logging;

namespace MemWatch.Daemon.Logging;

/// <summary>
/// Every message the daemon logs, with its event id: 1xxx start and stop, 2xxx sampling, 3xxx remediation, 4xxx HTTP,
/// 5xxx history, 6xxx Kubernetes, 7xxx analysis and attribution. docs/daemon.md lists them with what to do.
/// </summary>
/// <remarks>
/// Ids are stable: never renumber or reuse one, add new ones at the end of their range. Parameters are plain values or
/// Probes types, never another daemon folder's: every folder logs through this class.
/// </remarks>
internal static partial class Log
{
    // 1xxx: start, configuration, state directory, readiness.

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "config: {Warning}")]
    public static partial void ConfigWarning(this ILogger logger, string warning);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "state directory {StateDirectory} cannot be created: {Reason}")]
    public static partial void StateDirectoryUnavailable(this ILogger logger, string stateDirectory, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "{File} was mode {Mode}; made 0600 (it holds command names and client addresses)")]
    public static partial void StateFileTightened(this ILogger logger, string file, string mode);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "cannot restrict {File}: {Reason}")]
    public static partial void StateFileNotRestricted(this ILogger logger, string file, string reason);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "memwatch starting: {Rules} target rules, interval {Interval}, listening on {Listen}")]
    public static partial void Starting(this ILogger logger, int rules, TimeSpan interval, string listen);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "memwatch stopped")]
    public static partial void Stopped(this ILogger logger);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "ready: watching {Targets} processes, listening on http://{Listen}")]
    public static partial void Ready(this ILogger logger, int targets, string listen);

    // 2xxx: sampling.

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "watching {Pid} ({Comm}) under rule {Rule}, unit '{Unit}'")]
    public static partial void Watching(this ILogger logger, int pid, string comm, string rule, string unit);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "stopped watching {Pid} ({Comm}): {Why}")]
    public static partial void StoppedWatching(this ILogger logger, int pid, string comm, string why);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "more processes match than Sampling.MaxTargets ({Max}); the rest are not watched (counted in memwatch_sample_errors_total{{reason=\"target_limit\"}})")]
    public static partial void TargetLimit(this ILogger logger, int max);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "{Pid} ({Comm}): {What} took {Milliseconds:0} ms; its interval is now x{Backoff}")]
    public static partial void SlowRead(this ILogger logger, int pid, string comm, string what, double milliseconds, int backoff);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "reading {Pid} failed ({Reason}): {Message}")]
    public static partial void ReadFailed(this ILogger logger, int pid, string reason, string message);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "the memory cgroup '{Cgroup}' of {Pid} ({Comm}) is not visible through {CgroupRoot}: its limit is unknown and its forecast uses host memory (mount the host's /sys/fs/cgroup and set Sampling.HostCgroupRoot)")]
    public static partial void CgroupUnresolved(this ILogger logger, int pid, string comm, string cgroup, string cgroupRoot);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Sampling.HostCgroupRoot {CgroupRoot} holds no cgroup mount with the memory controller: no target's cgroup limit will be known")]
    public static partial void NoCgroupMounts(this ILogger logger, string cgroupRoot);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Error, Message = "sampling tick failed")]
    public static partial void TickFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = ".NET counters of {Pid} ({Comm}): GC heap {GcHeapBytes} bytes, read in {Milliseconds:0} ms")]
    public static partial void DotNetCountersRead(this ILogger logger, int pid, string comm, ulong gcHeapBytes, double milliseconds);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = ".NET counters of {Pid} ({Comm}) not read ({Reason}): {Message}")]
    public static partial void DotNetCountersNotRead(this ILogger logger, int pid, string comm, string reason, string message);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = ".NET counter read of {Pid} failed")]
    public static partial void DotNetCounterReadFailed(this ILogger logger, int pid, Exception exception);

    // 3xxx: introspection, trims, GCs.

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "policy of rule {Rule} trims {Pid} ({Comm}): {Reason}")]
    public static partial void PolicyTrim(this ILogger logger, int pid, string comm, string rule, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "policy of rule {Rule} no longer trims {Pid} ({Comm}): {RefaultedPercent:0}% of the {ReleasedMiB:0.0} MiB its last trim released came back within {Seconds:0} s; see its verdict's recommendations")]
    public static partial void PolicyTrimRefaulted(this ILogger logger, int pid, string comm, string rule, double refaultedPercent, double releasedMiB, double seconds);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "remediation pass over {Pid} failed")]
    public static partial void RemediationFailed(this ILogger logger, int pid, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "trim of {Pid} ({Comm}) by {Trigger} ({Who}): {Outcome}, RSS {RssBeforeMiB:0.0} -> {RssAfterMiB:0.0} MiB, pause {PauseMilliseconds:0.0} ms: {Message}")]
    public static partial void Trimmed(this ILogger logger, int pid, string comm, string trigger, string who, string outcome, double rssBeforeMiB, double rssAfterMiB, double pauseMilliseconds, string message);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "quarantined {Pid} ({Comm}): no more introspection or trims of this process: {Message}")]
    public static partial void Quarantined(this ILogger logger, int pid, string comm, string message);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "introspection of {Pid} ({Comm}) refused ({Reason}): {Message}")]
    public static partial void IntrospectionRefused(this ILogger logger, int pid, string comm, RemoteCallFailure reason, string message);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "gc of {Pid} ({Comm}) by {Who}: {Outcome}, GC heap {HeapBeforeMiB:0.0} -> {HeapAfterMiB:0.0} MiB, RSS {RssBeforeMiB:0.0} -> {RssAfterMiB:0.0} MiB, pause {PauseMilliseconds:0.0} ms: {Message}")]
    public static partial void GcInduced(this ILogger logger, int pid, string comm, string who, string outcome, double heapBeforeMiB, double heapAfterMiB, double rssBeforeMiB, double rssAfterMiB, double pauseMilliseconds, string message);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Debug, Message = "V8 heap figures of {Pid} ({Comm}) not read: {Message}")]
    public static partial void V8NotAsked(this ILogger logger, int pid, string comm, string message);

    // 4xxx: HTTP.

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    public static partial void RequestFailed(this ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "served /metrics as {Format} ({Bytes} bytes) to {Client}")]
    public static partial void MetricsServed(this ILogger logger, string format, int bytes, string client);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "rejected a {Action} request from {Network}: {Reason} ({HeldBack} more from that network in the last minute not logged)")]
    public static partial void RequestRejected(this ILogger logger, string action, string network, string reason, int heldBack);

    // 5xxx: history.

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "history database was corrupt; moved aside to {Path}, starting a fresh one")]
    public static partial void HistoryMovedAside(this ILogger logger, string path);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "history is unavailable, running without it: {Reason}")]
    public static partial void HistoryUnavailable(this ILogger logger, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "resumed {Pid} ({Comm}) from history: {Count} samples since {Since:u}")]
    public static partial void HistoryResumed(this ILogger logger, int pid, string comm, int count, DateTimeOffset since);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "history writes are {Max} samples behind; new samples are not stored until they catch up")]
    public static partial void HistoryBehind(this ILogger logger, int max);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "history {What} failed ({Failure}): {Message}")]
    public static partial void HistoryFailed(this ILogger logger, string what, string failure, string message);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Debug, Message = "history maintenance took {Milliseconds:0} ms: {Folded} rows downsampled, {Deleted} deleted, {MiB:0.0} MiB in use")]
    public static partial void HistoryMaintained(this ILogger logger, double milliseconds, long folded, long deleted, double mib);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Error, Message = "history maintenance failed ({Failure}): {Message}")]
    public static partial void HistoryMaintenanceFailed(this ILogger logger, string failure, string message);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Information, Message = "history flushed and closed: {Path}")]
    public static partial void HistoryClosed(this ILogger logger, string path);

    // 6xxx: Kubernetes.

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Kubernetes.NodeName is {Node} but no API server is known (KUBERNETES_SERVICE_HOST is unset and Kubernetes.ApiServer is not set): pod names stay empty")]
    public static partial void KubernetesNoApiServer(this ILogger logger, string node);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Kubernetes API: {Count} pods on node {Node} ({Server}); watching for changes")]
    public static partial void KubernetesPodsListed(this ILogger logger, int count, string node, Uri server);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Kubernetes API: pods of node {Node} not available ({Kind}: {Message}); retrying in {Seconds} s, sampling goes on without pod names")]
    public static partial void KubernetesPodsUnavailable(this ILogger logger, string node, string kind, string message, double seconds);

    // 7xxx: forecasts, verdicts, attribution.

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "target {Pid} ({Comm}): forecast {Outcome}: {Reason}")]
    public static partial void ForecastChanged(this ILogger logger, int pid, string comm, ForecastOutcome outcome, string reason);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "target {Pid} ({Comm}): verdict {Verdict} (confidence {Confidence:0.00}): {Reason}")]
    public static partial void VerdictChanged(this ILogger logger, int pid, string comm, string verdict, double confidence, string reason);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "target {Pid} ({Comm}): attribution ({Trigger}): {Bytes} bytes of growth; top: {Top}")]
    public static partial void AttributionCaptured(this ILogger logger, int pid, string comm, string trigger, long bytes, string top);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "target {Pid}: attribution refused: {Reason}")]
    public static partial void AttributionRefused(this ILogger logger, int pid, string reason);
}
