namespace MemWatch.Daemon.Http;

/// <summary>The body of every API error: a stable kebab-case code and one sentence for people.</summary>
public sealed record ApiError(string Error, string Detail);
