namespace MemWatch.Probes.Unwinding;

/// <summary>A parsed CIE (DWARF 5 §6.4.1; LSB 1.3 for the <c>.eh_frame</c> form and augmentations z, R, P, L, S).</summary>
internal sealed class CommonInformationEntry
{
    public required int Offset { get; init; }

    public required byte Version { get; init; }

    public required ulong CodeAlignment { get; init; }

    public required long DataAlignment { get; init; }

    public required int ReturnAddressRegister { get; init; }

    /// <summary>Encoding of the FDEs' pc_begin/pc_range ('R'); absptr when absent.</summary>
    public required byte FdeEncoding { get; init; }

    /// <summary>'z': FDEs carry an augmentation-data length.</summary>
    public required bool HasAugmentationData { get; init; }

    /// <summary>'S': the FDEs describe a signal trampoline, whose "return address" is the interrupted instruction itself.</summary>
    public required bool IsSignalFrame { get; init; }

    public required int InstructionsStart { get; init; }

    public required int InstructionsEnd { get; init; }
}
