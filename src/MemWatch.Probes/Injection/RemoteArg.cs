namespace MemWatch.Probes.Injection;

/// <summary>An argument of a remote call: a plain integer, or the address of an offset in the scratch block.</summary>
public readonly record struct RemoteArg(ulong Value, bool IsScratchOffset)
{
    public static RemoteArg Int(ulong value) => new(value, false);

    public static RemoteArg Int(long value) => new(unchecked((ulong)value), false);

    /// <summary>The target address of byte <paramref name="offset"/> of the scratch block.</summary>
    public static RemoteArg Scratch(int offset) => new((ulong)offset, true);
}
