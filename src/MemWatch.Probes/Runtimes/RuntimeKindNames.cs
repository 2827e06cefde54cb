namespace MemWatch.Probes.Runtimes;

/// <summary>Report names of <see cref="RuntimeKind"/> (JSON, the <c>runtime</c> label of /metrics).</summary>
public static class RuntimeKindNames
{
    public static string ToName(this RuntimeKind kind) => kind switch
    {
        RuntimeKind.CPython => "cpython",
        RuntimeKind.Node => "node",
        RuntimeKind.Jvm => "jvm",
        RuntimeKind.Go => "go",
        _ => "none",
    };
}
