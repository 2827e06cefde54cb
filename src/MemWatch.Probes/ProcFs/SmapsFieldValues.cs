using System.Runtime.CompilerServices;

namespace MemWatch.Probes.ProcFs;

/// <summary>Inline storage for the byte values of <see cref="SmapsFields"/>, indexed by <see cref="SmapsField"/>.</summary>
[InlineArray(Count)]
internal struct SmapsFieldValues
{
    public const int Count = (int)SmapsField.Locked + 1;

    private ulong _first;
}
