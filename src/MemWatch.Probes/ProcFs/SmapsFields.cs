namespace MemWatch.Probes.ProcFs;

/// <summary>
/// The fields of one <c>/proc/PID/smaps</c> record, or of <c>/proc/PID/smaps_rollup</c> (proc(5); kernel
/// Documentation/filesystems/proc.rst). Sizes are bytes (the kernel prints kB). A key the kernel did not print is 0.
/// </summary>
public struct SmapsFields : IEquatable<SmapsFields>
{
    private SmapsFieldValues _values;

    /// <summary>The value of a size field, in bytes.</summary>
    public ulong this[SmapsField field]
    {
        readonly get => _values[(int)field];
        internal set => _values[(int)field] = value;
    }

    public readonly ulong SizeBytes => _values[(int)SmapsField.Size];

    public readonly ulong KernelPageSizeBytes => _values[(int)SmapsField.KernelPageSize];

    public readonly ulong MmuPageSizeBytes => _values[(int)SmapsField.MmuPageSize];

    public readonly ulong RssBytes => _values[(int)SmapsField.Rss];

    public readonly ulong PssBytes => _values[(int)SmapsField.Pss];

    /// <summary><c>Pss_Dirty</c> (Linux 6.0+).</summary>
    public readonly ulong PssDirtyBytes => _values[(int)SmapsField.PssDirty];

    /// <summary><c>Pss_Anon</c>: smaps_rollup only.</summary>
    public readonly ulong PssAnonBytes => _values[(int)SmapsField.PssAnon];

    /// <summary><c>Pss_File</c>: smaps_rollup only.</summary>
    public readonly ulong PssFileBytes => _values[(int)SmapsField.PssFile];

    /// <summary><c>Pss_Shmem</c>: smaps_rollup only.</summary>
    public readonly ulong PssShmemBytes => _values[(int)SmapsField.PssShmem];

    public readonly ulong SharedCleanBytes => _values[(int)SmapsField.SharedClean];

    public readonly ulong SharedDirtyBytes => _values[(int)SmapsField.SharedDirty];

    public readonly ulong PrivateCleanBytes => _values[(int)SmapsField.PrivateClean];

    public readonly ulong PrivateDirtyBytes => _values[(int)SmapsField.PrivateDirty];

    public readonly ulong ReferencedBytes => _values[(int)SmapsField.Referenced];

    public readonly ulong AnonymousBytes => _values[(int)SmapsField.Anonymous];

    public readonly ulong KsmBytes => _values[(int)SmapsField.Ksm];

    public readonly ulong LazyFreeBytes => _values[(int)SmapsField.LazyFree];

    public readonly ulong AnonHugePagesBytes => _values[(int)SmapsField.AnonHugePages];

    public readonly ulong ShmemPmdMappedBytes => _values[(int)SmapsField.ShmemPmdMapped];

    public readonly ulong FilePmdMappedBytes => _values[(int)SmapsField.FilePmdMapped];

    public readonly ulong SharedHugetlbBytes => _values[(int)SmapsField.SharedHugetlb];

    public readonly ulong PrivateHugetlbBytes => _values[(int)SmapsField.PrivateHugetlb];

    public readonly ulong SwapBytes => _values[(int)SmapsField.Swap];

    public readonly ulong SwapPssBytes => _values[(int)SmapsField.SwapPss];

    public readonly ulong LockedBytes => _values[(int)SmapsField.Locked];

    /// <summary><c>THPeligible</c>: 1 when the mapping can use transparent huge pages, else 0.</summary>
    public long ThpEligible { readonly get; internal set; }

    /// <summary><c>ProtectionKey</c>: the memory protection key (x86 PKU); 0 when absent.</summary>
    public long ProtectionKey { readonly get; internal set; }

    /// <summary>The <c>VmFlags</c> codes MemWatch knows.</summary>
    public VmFlags VmFlags { readonly get; internal set; }

    /// <summary>
    /// Adds the fields a sum over mappings keeps (what smaps_rollup reports). Page sizes, THPeligible, ProtectionKey and
    /// VmFlags are per mapping and not summed.
    /// </summary>
    internal void Add(in SmapsFields other)
    {
        for (int i = 0; i < SmapsFieldValues.Count; i++)
        {
            _values[i] += other._values[i];
        }

        _values[(int)SmapsField.KernelPageSize] = 0;
        _values[(int)SmapsField.MmuPageSize] = 0;
    }

    public readonly bool Equals(SmapsFields other)
    {
        for (int i = 0; i < SmapsFieldValues.Count; i++)
        {
            if (_values[i] != other._values[i])
            {
                return false;
            }
        }

        return ThpEligible == other.ThpEligible && ProtectionKey == other.ProtectionKey && VmFlags == other.VmFlags;
    }

    public override readonly bool Equals(object? obj) => obj is SmapsFields other && Equals(other);

    public override readonly int GetHashCode() => HashCode.Combine(RssBytes, PssBytes, SwapBytes, SizeBytes, VmFlags);

    public static bool operator ==(SmapsFields left, SmapsFields right) => left.Equals(right);

    public static bool operator !=(SmapsFields left, SmapsFields right) => !left.Equals(right);
}
