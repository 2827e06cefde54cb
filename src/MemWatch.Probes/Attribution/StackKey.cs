namespace MemWatch.Probes.Attribution;

/// <summary>A sampled stack's call-site addresses as a dictionary key (structural equality).</summary>
internal readonly struct StackKey(ulong[] pcs) : IEquatable<StackKey>
{
    public ulong[] Pcs { get; } = pcs;

    public bool Equals(StackKey other) => Pcs.AsSpan().SequenceEqual(other.Pcs);

    public override bool Equals(object? obj) => obj is StackKey k && Equals(k);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (ulong pc in Pcs)
        {
            hash.Add(pc);
        }

        return hash.ToHashCode();
    }
}
